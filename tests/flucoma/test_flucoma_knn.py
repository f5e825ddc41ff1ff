"""KNNClassifier and KNNRegressor on DataSets: neighbours and weights worked out by hand."""

from pathlib import Path

import numpy as np
import pytest

from mlpkit.flucoma import DataSet, KNNClassifier, KNNRegressor, LabelSet

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "flucoma"

# Points on a line at 0, 1, 2 and 10; targets in a shuffled identifier order (pairing is by id).
SOURCE = DataSet.from_numpy(["a", "b", "c", "d"], [[0.0], [1.0], [2.0], [10.0]])
TARGET = DataSet.from_numpy(["d", "c", "b", "a"], [[100.0, 1.0], [20.0, 1.0], [10.0, 1.0], [0.0, 1.0]])
LABELS = LabelSet.from_numpy(["d", "a", "b", "c"], ["far", "near", "near", "mid"])


def test_regressor_uniform_is_the_mean_of_the_nearest():
    knn = KNNRegressor(num_neighbours=2, weight=False).fit(SOURCE, TARGET)
    # 0.8: nearest are b (0.2 away) and a (0.8): mean of 10 and 0
    np.testing.assert_allclose(knn.predict_point([0.8]), [5.0, 1.0])


def test_regressor_weighs_by_inverse_distance():
    knn = KNNRegressor(num_neighbours=2).fit(SOURCE, TARGET)
    # 0.8: weights 1/0.2 = 5 (b, 10) and 1/0.8 = 1.25 (a, 0): (5 * 10 + 1.25 * 0) / 6.25 = 8
    np.testing.assert_allclose(knn.predict_point([0.8]), [8.0, 1.0])
    # on a training point its own target, as FluCoMa
    np.testing.assert_allclose(knn.predict_point([2.0]), [20.0, 1.0])


def test_regressor_predicts_a_dataset_under_the_same_ids():
    knn = KNNRegressor(num_neighbours=1).fit(SOURCE, TARGET)
    queries = DataSet.from_numpy(["q2", "q1"], [[9.0], [0.1]])
    out = knn.predict(queries)
    assert out.ids == ["q2", "q1"] and out.cols == 2
    assert out.get_point("q2").tolist() == [100.0, 1.0] and out.get_point("q1").tolist() == [0.0, 1.0]
    assert knn.predict(DataSet(1)).size == 0


def test_classifier_votes():
    knn = KNNClassifier(num_neighbours=3, weight=False).fit(SOURCE, LABELS)
    # 1.4: nearest b (near), c (mid), a (near): "near" 2 votes to 1
    assert knn.predict_point([1.4]) == "near"
    weighted = KNNClassifier(num_neighbours=3).fit(SOURCE, LABELS)
    # 1.9: c (mid) 1/0.1 = 10 against b 1/0.9 + a 1/1.9 = 1.64 for "near"
    # 9.0: d (far) 1/1 = 1 against c (mid) 1/7 and b (near) 1/8
    assert weighted.predict_point([1.9]) == "mid"
    assert knn.predict_point([1.9]) == "near"
    out = weighted.predict(DataSet.from_numpy(["x", "y"], [[1.9], [9.0]]))
    assert isinstance(out, LabelSet) and out.to_dict()["data"] == {"x": ["mid"], "y": ["far"]}
    assert type(out.get_point("x")) is str


def test_classifier_on_real_timbre_data():
    timbre = DataSet.read(EXAMPLES / "timbre-dataset.json")
    labels = LabelSet.read(EXAMPLES / "timbre-labelset.json")
    knn = KNNClassifier(num_neighbours=1).fit(timbre, labels)
    some = DataSet.from_numpy(timbre.ids[:50], timbre.to_numpy()[1][:50])
    predicted = knn.predict(some)
    assert all(predicted.get_point(i) == labels.get_point(i) for i in some.ids)


def test_errors():
    with pytest.raises(ValueError, match="num_neighbours is 5 but there are only 4 points"):
        KNNRegressor(num_neighbours=5).fit(SOURCE, TARGET)
    with pytest.raises(ValueError, match="num_neighbours must be a whole number >= 1, got 0"):
        KNNClassifier(num_neighbours=0).fit(SOURCE, LABELS)
    with pytest.raises(TypeError, match="KNNClassifier.fit needs a LabelSet target, got DataSet"):
        KNNClassifier().fit(SOURCE, TARGET)
    with pytest.raises(TypeError, match="KNNRegressor.fit needs a DataSet target, got LabelSet"):
        KNNRegressor().fit(SOURCE, LABELS)
    with pytest.raises(ValueError, match="same identifiers"):
        KNNClassifier(num_neighbours=1).fit(SOURCE, LabelSet.from_numpy(["a"], ["x"]))
    with pytest.raises(RuntimeError, match="not fitted yet"):
        KNNRegressor().predict_point([1.0])
    knn = KNNRegressor().fit(SOURCE, TARGET)
    with pytest.raises(ValueError, match="the point has 2 values, but the model was fitted on points of 1"):
        knn.predict_point([1.0, 2.0])
    with pytest.raises(ValueError, match="each point of the DataSet has 2 values"):
        knn.predict(DataSet.from_numpy(["x"], [[1.0, 2.0]]))
    with pytest.raises(ValueError, match="1-D vector of finite numbers"):
        knn.predict_point([np.nan])
