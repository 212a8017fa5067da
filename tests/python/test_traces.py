"""dftracer.utils.traces on traces written by hand: both layouts, hash
resolution across chunks, and every kind of damage, counted, losing no
other file's events. (Traces written by the real tracer: test_real_traces.)"""

from __future__ import annotations

import gzip
import json
import os

import pytest

import dftracer.utils as dft
from dftracer.utils import traces


def event(i, name="read", fhash="f1", ret=4096, ph=1):
    return {"id": i, "name": name, "cat": "POSIX", "type": 3, "pid": 10, "tid": 11, "ts": 1_000 + i, "dur": 2,
            "ph": ph, "args": {"hhash": "h1", "ret": ret, "fhash": fhash}}


def meta(name, value, text):
    return {"name": name, "cat": "dftracer", "type": 1, "pid": 10, "tid": 11, "ph": 4,
            "args": {"hhash": "h1", "name": text, "value": value}}


def v2_lines(n, start=0):
    lines = [meta("HH", "h1", "node-7"), meta("FH", "f1", "/data/a.h5"), meta("FH", "f2", "/data/b.h5")]
    lines += [event(start + i, fhash="f1" if i % 2 else "f2") for i in range(n)]
    return [json.dumps(x, separators=(",", ":")) for x in lines]


def write_gz(path, lines, members=1):
    """`lines` as `members` gzip members, as DFTracer flushes them."""
    per = max(1, len(lines) // members)
    with open(path, "wb") as f:
        for start in range(0, len(lines), per):
            f.write(gzip.compress(("\n".join(lines[start:start + per]) + "\n").encode()))
    return str(path)


def test_v2_layout_resolves_paths_and_hosts(rt, tmp_path):
    path = write_gz(tmp_path / "trace-1-preload.pfw.gz", v2_lines(100), members=4)
    found = traces.read_traces(path, runtime=rt)
    assert found.errors == [] and found.empty_files == []
    assert len(found.events) == 100 and found.metadata == 3
    assert {e["path"] for e in found.events} == {"/data/a.h5", "/data/b.h5"}
    assert {e["host"] for e in found.events} == {"node-7"}
    calls, files, categories = traces.summarize(found.events)
    assert calls["read"].count == 100 and calls["read"].bytes == 100 * 4096
    assert files["/data/a.h5"].bytes == 50 * 4096
    assert categories == {"POSIX": 100}


def test_v1_layout_brackets_string_ph_and_plain_names(rt, tmp_path):
    rows = [{"id": i, "name": "write", "cat": "STDIO", "pid": 1, "tid": 2, "ts": i, "dur": 1, "ph": "X",
             "args": {"fname": f"/lus/f{i % 3}", "hostname": "nid01", "size": 10}} for i in range(30)]
    rows.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": 2, "args": {"name": "main"}})
    text = "[\n" + "\n".join(json.dumps(r) + "," for r in rows) + "\n]\n"  # 1.x: trailing commas, brackets
    (tmp_path / "old.pfw").write_text(text)
    found = traces.read_traces(tmp_path, runtime=rt)
    assert found.errors == []
    assert len(found.events) == 30 and found.metadata == 1
    assert {e["path"] for e in found.events} == {"/lus/f0", "/lus/f1", "/lus/f2"}
    assert found.events[0]["host"] == "nid01"
    assert found.threads == {(1, 2): "main"}
    assert traces.summarize(found.events)[0]["write"].bytes == 300


def test_a_large_file_is_many_chunk_tasks_and_hashes_cross_chunks(rt, tmp_path):
    path = write_gz(tmp_path / "big.pfw.gz", v2_lines(5000), members=7)
    found = traces.read_traces(path, runtime=rt, chunk_bytes=16 * 1024)
    assert found.traces[0].chunks > 20  # not one task
    assert len(found.events) == 5000
    assert all(e["path"] in ("/data/a.h5", "/data/b.h5") for e in found.events)  # FH lines were in chunk 1
    names = [t["name"] for t in rt.get_progress()["tasks"]]
    assert any(n.startswith("read big.pfw.gz") for n in names)
    assert sum(n.startswith("parse big.pfw.gz:") for n in names) == found.traces[0].chunks


def test_damage_is_counted_and_loses_no_other_events(rt, tmp_path):
    good = write_gz(tmp_path / "a-good.pfw.gz", v2_lines(40))
    # A truncated last line (a process killed while writing).
    lines = v2_lines(20)
    lines[-1] = lines[-1][:25]
    write_gz(tmp_path / "b-truncated-line.pfw.gz", lines)
    # A corrupt second gzip member: the first member's events survive.
    first = gzip.compress(("\n".join(v2_lines(10)) + "\n").encode())
    second = bytearray(gzip.compress(("\n".join(v2_lines(10, start=100)) + "\n").encode()))
    second[30:50] = b"\xff" * 20
    (tmp_path / "c-corrupt-member.pfw.gz").write_bytes(first + bytes(second))
    # A gzip stream cut short.
    whole = gzip.compress(("\n".join(v2_lines(200)) + "\n").encode())
    (tmp_path / "d-cut.pfw.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "e-empty.pfw.gz").write_bytes(b"")
    (tmp_path / "f-not-gzip.pfw.gz").write_bytes(b"hello, I am a text file\n")
    write_gz(tmp_path / "g-not-a-trace.pfw.gz", ["name,ts,dur", "read,1,2"])
    (tmp_path / "h-bad-line.pfw").write_text("\n".join(v2_lines(5)[:4] + ["{not json", v2_lines(5)[4]]) + "\n")

    found = traces.read_traces(tmp_path, runtime=rt)
    by_file = {os.path.basename(e.file): e for e in found.errors}
    kinds = found.error_counts()

    assert found.empty_files == [str(tmp_path / "e-empty.pfw.gz")]
    assert by_file["b-truncated-line.pfw.gz"].kind == "malformed"
    assert by_file["b-truncated-line.pfw.gz"].line == 23  # 3 metadata lines + 20 events
    assert by_file["c-corrupt-member.pfw.gz"].kind == "corrupt_gzip"
    assert by_file["d-cut.pfw.gz"].kind == "truncated_gzip"
    assert by_file["f-not-gzip.pfw.gz"].kind == "not_gzip"
    assert by_file["g-not-a-trace.pfw.gz"].kind == "not_a_trace"
    assert by_file["h-bad-line.pfw"].line == 5 and "malformed JSON" in by_file["h-bad-line.pfw"].message
    assert "h-bad-line.pfw:5:" in str(by_file["h-bad-line.pfw"])
    assert kinds["corrupt_gzip"] == 1 and kinds["truncated_gzip"] == 1 and kinds["not_gzip"] == 1
    assert kinds["not_a_trace"] == 1 and kinds["malformed"] >= 2

    per_file = {os.path.basename(t.path): t.events for t in found.traces}
    assert per_file["a-good.pfw.gz"] == 40
    assert per_file["b-truncated-line.pfw.gz"] == 19
    assert per_file["c-corrupt-member.pfw.gz"] == 10
    assert 0 < per_file["d-cut.pfw.gz"] < 200
    assert per_file["h-bad-line.pfw"] == 1 + 1  # 2 good event lines of 5 (3 metadata)
    assert len(found.events) == sum(per_file.values())
    assert len(traces.read_traces(good, runtime=rt).events) == 40


def test_bad_arguments_fail_at_the_call(rt, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such trace"):
        traces.read_traces(tmp_path / "missing.pfw.gz", runtime=rt)
    with pytest.raises(ValueError, match="chunk_bytes"):
        traces.read_traces(tmp_path, runtime=rt, chunk_bytes=0)


def test_reads_the_runtimes_own_export(rt, tmp_path):
    handles = [rt.submit(pow, i, 2, name=f"pow-{i}") for i in range(50)]
    rt.wait_all()
    rt.export_trace(tmp_path / "runtime.pfw.gz")
    found = traces.read_traces(tmp_path / "runtime.pfw.gz", runtime=rt)
    assert found.errors == []
    assert {e["name"] for e in found.events} >= {h.name for h in handles}
    workers = rt.get_progress()["workers"]
    assert set(found.threads) <= {(os.getpid(), w["os_thread"]) for w in workers}
    assert all((e["pid"], e["tid"]) in found.threads for e in found.events)  # every task's thread is named


def test_plot_timeline_draws_real_layouts_and_many_categories(tmp_path):
    pytest.importorskip("matplotlib")
    rows = [dict(event(i), cat=f"CAT{i % 30}") for i in range(300)]
    write_gz(tmp_path / "many.pfw.gz", [json.dumps(r) for r in rows])
    ax = dft.plot_timeline(tmp_path / "many.pfw.gz", tmp_path / "many.png", max_categories=8)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 9 and labels[-1] == "other"
    assert (tmp_path / "many.png").stat().st_size > 1000


def test_fields_of_the_wrong_type_are_errors_on_their_own_line(rt, tmp_path):
    (tmp_path / "good.pfw").write_text(json.dumps(event(1)) + "\n")
    bad = [
        {"name": "process_name", "ph": "M", "pid": "x", "args": {"name": "p"}},
        {"name": "thread_name", "ph": "M", "pid": None, "args": {"name": "t"}},
        {"name": "process_name", "ph": "M", "pid": 1e400, "args": {"name": "p"}},
    ]
    lines = [json.dumps(e) for e in bad] + ['{"a":' + "[" * 5000 + "]" * 5000 + "}", "5"]
    (tmp_path / "z.pfw").write_text("\n".join(lines) + "\n")
    result = traces.read_traces(tmp_path, runtime=rt)
    assert len(result.events) == 1  # the other file's event is kept
    assert sorted((os.path.basename(e.file), e.line, e.kind) for e in result.errors) == [
        ("z.pfw", line, "malformed") for line in range(1, 6)]


def test_an_unhashable_hash_leaves_the_event_without_a_path(rt, tmp_path):
    odd = event(1, fhash=["a"])
    (tmp_path / "t.pfw").write_text(json.dumps(odd) + "\n")
    result = traces.read_traces(tmp_path / "t.pfw", runtime=rt)
    assert not result.errors and len(result.events) == 1 and "path" not in result.events[0]


def test_a_line_many_chunks_long_is_read_whole(rt, tmp_path):
    long = dict(event(1), name="x" * 3_000_000)
    (tmp_path / "long.pfw").write_text(json.dumps(event(0)) + "\n" + json.dumps(long) + "\n" + json.dumps(event(2)))
    result = traces.read_traces(tmp_path / "long.pfw", runtime=rt, chunk_bytes=4096)
    assert not result.errors
    assert [len(e["name"]) for e in result.events] == [4, 3_000_000, 4]


def test_plot_timeline_leaves_out_events_with_fields_of_the_wrong_type(tmp_path):
    pytest.importorskip("matplotlib")
    lines = [dict(event(1), dur="x"), dict(event(2), pid=None), event(3)]
    (tmp_path / "t.pfw").write_text("".join(json.dumps(e) + "\n" for e in lines))
    ax = dft.plot_timeline(tmp_path / "t.pfw")
    assert "2 event(s) with fields of the wrong type left out" in ax.get_title()
