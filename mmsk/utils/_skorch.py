"""The skorch nets mmsk's deep estimators train with (imported on first use: it imports torch).

They are skorch's own, with one change made through skorch's documented hook,
``train_step_single``: skorch switches the module (and every submodule) to
training mode before each batch; here that happens only when the module is not
in training mode already, which is once per epoch after validation. On a small
network the per-batch switch was about 5% of an epoch on the CPU.
"""

from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.dataset import unpack_data


class _TrainModeOnce:
    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:
            self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


class _Net(_TrainModeOnce, NeuralNet):
    """skorch's NeuralNet, switching to training mode once per epoch."""


class _NetClassifier(_TrainModeOnce, NeuralNetClassifier):
    """skorch's NeuralNetClassifier, switching to training mode once per epoch."""


class _NetRegressor(_TrainModeOnce, NeuralNetRegressor):
    """skorch's NeuralNetRegressor, switching to training mode once per epoch."""


#: What ``BaseDeepEstimator._make_net`` builds for each kind of net.
NETS = {"net": _Net, "classifier": _NetClassifier, "regressor": _NetRegressor}
