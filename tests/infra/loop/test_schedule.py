"""Retraining cadences: due jobs in dependency order; a failed run stays due."""

from __future__ import annotations

import sys
from pathlib import Path

from colisten.timeunits import DAY_MS
from infra.loop.continuous import RunOptions, job_command, run_job, schedule_for
from infra.loop.schedule import Schedule

T0 = 1_767_571_200_000


def test_paper_cadences_hgnn_weekly_two_tower_daily() -> None:
    s = Schedule.paper()
    assert s.due(T0) == ["hgnn", "two_tower"]  # nothing ran yet
    s = s.ran("hgnn", T0).ran("two_tower", T0)
    assert s.due(T0 + DAY_MS - 1) == []
    assert s.due(T0 + DAY_MS) == ["two_tower"]
    s = s.ran("two_tower", T0 + DAY_MS)
    assert s.due(T0 + 7 * DAY_MS) == ["hgnn", "two_tower"]


def test_a_failed_run_changes_nothing_so_the_job_stays_due(tmp_path: Path) -> None:
    s = schedule_for(RunOptions(world=tmp_path, hgnn_days=7, two_tower_days=1))
    assert s.due(T0) == ["content", "hgnn", "two_tower"]
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    assert run_job(failing, tmp_path / "fail.log") is False
    assert s.due(T0) == ["content", "hgnn", "two_tower"]
    ok = [sys.executable, "-c", "print('trained')"]
    assert run_job(ok, tmp_path / "ok.log") is True
    assert "trained" in (tmp_path / "ok.log").read_text()


def test_job_commands_carry_the_cutoff_and_epochs(tmp_path: Path) -> None:
    opts = RunOptions(world=tmp_path, hgnn_epochs=3, tt_epochs=2)
    hgnn = job_command("hgnn", tmp_path, T0, opts)
    assert hgnn[3:5] == ["train", "hgnn"] and str(T0) in hgnn and "3" in hgnn
    tt = job_command("two_tower", tmp_path, T0, opts)
    assert tt[3:5] == ["train", "two-tower"] and tt[-1] == "2"
