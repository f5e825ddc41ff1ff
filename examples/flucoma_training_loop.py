"""The FluCoMa training guide's workflow, in Python with mlpkit.

A performer places a few points on a 2-D pad and gives each the three synth
parameters it should play. The regressor is trained in a continuous loop of
short fits (as a [fluid.mlpregressor~] with a metro would be), the learning rate
is lowered mid-way, and the model is saved as FluCoMa JSON, ready for ``read``
in Max, Pure Data or SuperCollider.

Run: python examples/flucoma_training_loop.py [output.json]
"""

import sys

import numpy as np

from mlpkit import flucoma

# Five pad positions and the (cutoff, resonance, detune) each should give, all in 0..1.
PRESETS = {
    "corner-low": ([0.1, 0.1], [0.1, 0.2, 0.0]),
    "corner-high": ([0.9, 0.9], [0.9, 0.7, 0.8]),
    "left": ([0.1, 0.8], [0.3, 0.9, 0.2]),
    "right": ([0.9, 0.2], [0.7, 0.1, 0.6]),
    "middle": ([0.5, 0.5], [0.5, 0.5, 0.4]),
}
TARGET_ERROR = 0.001


def main(path="pad-to-synth.json"):
    pad, synth = flucoma.DataSet(2), flucoma.DataSet(3)
    for identifier, (xy, params) in PRESETS.items():
        pad.add_point(identifier, xy)
        synth.add_point(identifier, params)

    model = flucoma.MLPRegressor(
        hidden_layers=[6], activation="sigmoid", output_activation="sigmoid",
        learn_rate=0.25, momentum=0.9, max_iter=100, validation=0, random_state=0,
    )  # fmt: skip
    for round_ in range(1, 301):
        error = model.fit(pad, synth)  # each call continues from where the last one stopped
        if round_ % 20 == 0:
            print(f"round {round_:3d}: error {error:.5f}  (learn_rate {model.learn_rate})")
        if round_ == 20:
            model.learn_rate = 0.05  # finer steps once the shape is there: no reset, training goes on
        if error < TARGET_ERROR:
            print(f"round {round_:3d}: error {error:.5f} < {TARGET_ERROR}: done")
            break

    print("the pad's centre plays", np.round(model.predict_point([0.5, 0.5]), 3))
    model.write(path)
    print(f"wrote {path}: load it with 'read' in FluCoMa's MLPRegressor")


if __name__ == "__main__":
    main(*sys.argv[1:2])
