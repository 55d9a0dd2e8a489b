"""Latency: a median in milliseconds with the device and thread count recorded."""

from __future__ import annotations

from evaluators.latency import measure_latency
from tests.evaluators.conftest import tiny_convnet


def test_latency_reports_median_device_and_threads() -> None:
    model = tiny_convnet()
    model.train()
    result = measure_latency(model, (1, 28, 28), batch_size=2, warmup=1, repeats=5)
    assert 0 < result["latency_ms_min"] <= result["latency_ms"]
    assert result["device"] == "cpu" and result["device_name"]
    assert result["threads"] >= 1 and result["batch_size"] == 2 and result["repeats"] == 5
    assert model.training  # the caller's mode is restored
