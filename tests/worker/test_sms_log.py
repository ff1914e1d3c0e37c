"""The SMS log (the default SMS channel) holds each message once, whatever the workers do."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from types import SimpleNamespace

from hotline.notify.drivers import FileDriver
from tests.worker.scenario import sms_log_keys


def sms(key: str) -> SimpleNamespace:
    return SimpleNamespace(id=1, key=key, channel="sms", recipient="+8613903590001", template_code="unit.urge",
                           subject="催办通知", body=f"【12345】{key} 已超期，现予催办。", ticket_id=7)


def test_a_message_sent_again_after_a_restart_is_not_written_again(tmp_path: Path):
    log = tmp_path / "outbox" / "sms.log"
    FileDriver(log).send(sms("ticket:1:reply:urge:u3:sms"))
    # The worker died before marking the message sent; a new process sends it again.
    restarted = FileDriver(log)
    restarted.send(sms("ticket:1:reply:urge:u3:sms"))
    restarted.send(sms("ticket:2:reply:warn:u3:sms"))
    restarted.send(sms("ticket:2:reply:warn:u3:sms"))
    assert sms_log_keys(log) == ["ticket:1:reply:urge:u3:sms", "ticket:2:reply:warn:u3:sms"]


def test_a_running_worker_sees_what_another_process_wrote_since(tmp_path: Path):
    log = tmp_path / "sms.log"
    first, second = FileDriver(log), FileDriver(log)
    first.send(sms("a"))
    second.send(sms("b"))  # second indexes the log now: it holds a
    first.send(sms("b"))  # first indexed it before b was written: it must look again
    second.send(sms("a"))
    assert sms_log_keys(log) == ["a", "b"]


def test_a_line_cut_short_by_a_crash_neither_counts_nor_swallows_the_next(tmp_path: Path):
    log = tmp_path / "sms.log"
    FileDriver(log).send(sms("a"))
    with open(log, "ab") as fh:
        fh.write(b'{"key": "b", "text": "\xe3\x80\x90123')  # killed in the middle of writing b
    FileDriver(log).send(sms("b"))
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    assert len(lines) == 3 and lines[1].startswith('{"key": "b", "text"')
    assert _readable_keys(log) == ["a", "b"]


def _readable_keys(log: Path) -> list[str]:
    keys = []
    for line in log.read_bytes().split(b"\n"):
        try:
            keys.append(json.loads(line)["key"])
        except ValueError:
            continue
    return keys


def _send_all(path: str, keys: list[str]) -> None:
    driver = FileDriver(path)
    for key in keys:
        driver.send(sms(key))


def test_four_processes_sending_the_same_messages_write_each_once(tmp_path: Path):
    log = tmp_path / "sms.log"
    keys = [f"ticket:{i}:reply:warn:u1:sms" for i in range(300)]
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_send_all, args=(str(log), keys[i::2] + keys)) for i in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    written = sms_log_keys(log)
    assert len(written) == len(set(written)) == 300
