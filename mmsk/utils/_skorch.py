"""The skorch nets mmsk's deep estimators train with (imported on first use: it imports torch).

They are skorch's own, with two changes made through skorch's documented hooks:

* ``initialize_module`` casts the module to the net's ``module_dtype`` (a torch
  dtype's name, set by the estimator) as it is built, before the optimizer
  takes its parameters;
* ``train_step_single``: skorch switches the module (and every submodule) to
  training mode before each batch; here that happens only when the module is
  not in training mode already, which is once per epoch after validation. On a
  small network the per-batch switch was about 5% of an epoch on the CPU.
"""

import torch
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from skorch.dataset import unpack_data


class _TrainModeOnce:
    #: The module's floating-point precision, by torch's name for it.
    module_dtype = "float32"

    def initialize_module(self):
        super().initialize_module()
        self.module_ = self.module_.to(getattr(torch, self.module_dtype))
        return self

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:
            self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


class _Net(_TrainModeOnce, NeuralNet):
    """skorch's NeuralNet, in the estimator's precision, switching to training mode once per epoch."""


class _NetClassifier(_TrainModeOnce, NeuralNetClassifier):
    """skorch's NeuralNetClassifier, in the estimator's precision, training mode once per epoch."""


class _NetRegressor(_TrainModeOnce, NeuralNetRegressor):
    """skorch's NeuralNetRegressor, in the estimator's precision, training mode once per epoch."""


#: What ``BaseDeepEstimator._make_net`` builds for each kind of net.
NETS = {"net": _Net, "classifier": _NetClassifier, "regressor": _NetRegressor}
