"""Spend-targeting headroom for the replay: how much spare capacity the forecast is given.

How much headroom over the forecast is worth paying for depends on the service: a steady
service is cheap to protect, a bursty one is not. Rather than fix one margin for every
service, the ``wedscale`` replay spends a budget: the headroom factor rises while the
instance-hours of the recent past stay below ``budget_ratio`` × the right-sized capacity of
the demand actually seen, and falls when they exceed it.

*Right-sized* is computed in hindsight from delivered demand only: for each past step, the
count ``ceil(demand / (capacity × target))`` needed over that step and the provisioning delay
after it (the protocol's ``needed``, looking as far ahead as an order takes to arrive). Steps
whose demand is not delivered yet are left out, so the controller is causal.
"""

from __future__ import annotations

from collections import deque


class HeadroomController:
    """Multiplicative headroom factor steered towards a spend budget.

    Parameters
    ----------
    budget_ratio : float
        Target of recent instance-hours over right-sized instance-hours.
    window_steps : int
        How many past steps the ratio is measured over (7 days of 15 s steps: a whole week,
        so wedding weekends and quiet weekdays are averaged).
    every_steps : int
        Steps between updates (1 h).
    gain : float
        Exponent of the correction ``(budget / ratio) ** gain`` (0 < gain <= 1).
    lowest, highest : float
        Bounds of the factor: 1.0 at the bottom, so the budget buys headroom and never takes
        away the base margin the policy settings give.
    delay_steps : int
        Provisioning delay in steps (the right-sized count looks this far ahead).
    """

    def __init__(self, budget_ratio: float = 1.05, window_steps: int = 40320,
                 every_steps: int = 240, gain: float = 0.25, lowest: float = 1.0,
                 highest: float = 2.0, delay_steps: int = 8):
        self.budget_ratio = budget_ratio
        self.window_steps = window_steps
        self.every_steps = every_steps
        self.gain = gain
        self.lowest = lowest
        self.highest = highest
        self.delay_steps = delay_steps
        self.factor_ = 1.0
        self._spent_sum: list[float] = [0.0]       # prefix sums of the ordered counts
        self._needed: deque[int] = deque(maxlen=delay_steps + 1)
        self._right_sized_sum: list[float] = [0.0]  # prefix sums of the right-sized counts

    def record(self, ordered: int, delivered_needed: list[int]) -> float:
        """Record this step's ordered count and newly delivered needs; return the factor.

        Parameters
        ----------
        ordered : int
            Instances ordered (ready plus pending) after this step's decision.
        delivered_needed : list of int
            ``needed`` of each step whose demand was delivered since the last call, in order.
        """
        self._spent_sum.append(self._spent_sum[-1] + ordered)
        for need in delivered_needed:
            self._needed.append(need)
            if len(self._needed) == self._needed.maxlen:  # the step delay_steps back is known
                self._right_sized_sum.append(self._right_sized_sum[-1] + max(self._needed))
        if (len(self._spent_sum) - 1) % self.every_steps == 0:
            self._update()
        return self.factor_

    def _update(self) -> None:
        """Move the factor towards the budget from the last window's spend ratio."""
        n = min(len(self._right_sized_sum), len(self._spent_sum)) - 1
        lo = max(0, n - self.window_steps)
        if n - lo < self.every_steps:
            return
        right_sized = self._right_sized_sum[n] - self._right_sized_sum[lo]
        ratio = (self._spent_sum[n] - self._spent_sum[lo]) / right_sized
        factor = self.factor_ * (self.budget_ratio / ratio) ** self.gain
        self.factor_ = min(self.highest, max(self.lowest, factor))
