"""``overcast ring``: the commands an operator builds rings with."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from overcast.cmd.main import app
from overcast.object.ring.ring import Ring

runner = CliRunner()


def ring(data: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["ring", *args, "--data-dir", str(data)])
    return result.exit_code, result.output


def test_create_add_rebalance_show(tmp_path: Path) -> None:
    assert ring(tmp_path, "create", "--part-power", "8", "--replicas", "3")[0] == 0
    for zone in (1, 2, 3, 4):
        code, said = ring(
            tmp_path, "add", "--zone", str(zone), "--ip", "127.0.0.1",
            "--port", str(6200 + zone), "--device", "d1", "--weight", "100",
        )  # fmt: skip
        assert code == 0, said
    code, said = ring(tmp_path, "rebalance")
    assert code == 0 and "placed 768 replicas (0 moved)" in said
    runtime = Ring(tmp_path / "rings" / "object.ring.gz")
    assert runtime.replicas == 3 and len(runtime.devs) == 4
    code, said = ring(tmp_path, "show")
    assert code == 0 and "256 partitions, 3 replicas" in said and "127.0.0.1:6204" in said
    assert ring(tmp_path, "set-weight", "3", "0")[0] == 0
    code, said = ring(tmp_path, "rebalance")
    assert code == 0 and "(192 moved)" in said


def test_mistakes_get_a_reason_and_exit_2(tmp_path: Path) -> None:
    code, said = ring(tmp_path, "rebalance")
    assert code == 2 and "ring create" in said
    create = ("create", "--part-power", "8", "--replicas", "3", "--ring")
    code, said = ring(tmp_path, *create, "objects")
    assert code == 2 and "no ring is called 'objects'" in said
    assert ring(tmp_path, *create, "object-1")[0] == 0
    code, said = ring(tmp_path, *create, "object-1")
    assert code == 2 and "exists" in said
    code, said = ring(tmp_path, "rebalance", "--ring", "object-1")
    assert code == 2 and "at least 3 devices" in said
    code, said = ring(tmp_path, "remove", "7", "--ring", "object-1")
    assert code == 2 and "no device with id 7" in said
