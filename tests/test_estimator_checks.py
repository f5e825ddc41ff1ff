"""scikit-learn's own estimator checks, run on both estimators in both precisions."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpkit import MLPClassifier, MLPRegressor

ESTIMATORS = [
    MLPClassifier(random_state=0),
    MLPRegressor(random_state=0),
    MLPClassifier(random_state=0, dtype="float64"),
    MLPRegressor(random_state=0, dtype="float64"),
]

FLOAT32_REASON = (
    "compares a weighted fit with a fit on repeated rows to rtol=1e-7, finer than float32 "
    "arithmetic resolves (they agree to ~1e-6); the float64 instances pass it"
)


def expected_failed_checks(estimator):
    if estimator.dtype == "float64":
        return {}
    return {
        "check_sample_weight_equivalence_on_dense_data": FLOAT32_REASON,
        "check_sample_weight_equivalence_on_sparse_data": FLOAT32_REASON,
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
