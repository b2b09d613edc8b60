"""Learning-rate schedules: change each group's ``lr`` once per ``scheduler.step()``.

As in PyTorch the schedules are chained: each step multiplies the group's
current ``lr``, so changes made to it from outside carry on.  Creating a
scheduler records ``initial_lr`` in every group and counts as an epoch
(epoch 0, or ``last_epoch + 1`` when resuming) that leaves the lrs as they are.
"""

from __future__ import annotations

from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets the lrs from ``get_lr()``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                    "an optimizer"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._advance(initial=True)

    def get_lr(self) -> list[float]:
        """The lrs for epoch ``last_epoch``, from the groups' current ones."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next epoch and set every group's ``lr`` for it."""
        self._advance(initial=False)

    def _advance(self, initial: bool) -> None:
        self.last_epoch += 1
        # the step made by the constructor keeps the lrs, also when resuming a schedule
        lrs = [g["lr"] for g in self.optimizer.param_groups] if initial else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def get_last_lr(self) -> list[float]:
        """The lrs the last ``step()`` set."""
        return self._last_lr

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    >>> import diffalg as dg
    >>> opt = dg.optim.SGD([dg.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = dg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch.

    >>> import diffalg as dg
    >>> opt = dg.optim.SGD([dg.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = dg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step(); opt.param_groups[0]["lr"]
    0.25
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]
