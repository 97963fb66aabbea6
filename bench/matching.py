"""Matching and language-ID throughput on generated mixed Arabic / Persian / English posts.

    .venv/bin/python bench/matching.py [--posts 20000] [--seed 1] [--skip-throughput]
                                       [--against DIR] [--only-command] [--only-split]

For 10, 1,000 and 10,000 aliases it times ``Matcher.match`` over every post with inferred
spellings off and on (issue 16: on stays within 20% of off), in turn, and, side by side, the
per-keyword ``re`` IGNORECASE ``\\b`` loop that keyword bots use (time-boxed: measured on a
sample of posts). Then precision and recall on the labelled held-out set of issue 16
(tests/matching/data/inferred_posts.jsonl), before (inference off) and after (on); then
language ID posts/s for each backend. Rates are the best of --repeat runs, so other load on the
machine shows less. Goals (issue 5): >= 20,000 posts/s with 10,000 aliases on one core,
>= 1,000x the regex loop, language ID >= 10,000 posts/s.

Then start-up: a channels.yaml including an entities file of 100 to 50,000 aliases (in the
shape ``monitor entities import`` writes, 4 aliases an entity) is read, validated and compiled
the old way (ruamel round-trip YAML; an automaton of Python tuples) and the new way (libyaml,
ruamel only on a problem; an int automaton, and from the cache), then 20,000 posts matched;
the longest event-loop pause while a 10,000-alias watchlist is reloaded the old way (on the
loop) and the new way (``load_compiled`` in a thread, the path ``Runtime.reload`` takes); and
``monitor match`` end to end (``--against DIR``: also the ``monitor match`` of another source
tree, e.g. ``git archive 6d3da2e | tar -x -C /tmp/base``, round-robin with ours). Goals:
10,000 aliases load, validate and compile in < 1 s; ``monitor match`` >= 20,000 posts/s
including start-up; a reload never stalls the loop. ``--only-command`` runs that last table
alone (on a fresh 10,000-alias watchlist).

With ``--against DIR`` (a base tree, e.g. ``git worktree add --detach /tmp/base-match main``),
last, the start-up split side by side at 100 to 50,000 aliases, each step in a fresh process
of each tree: load and validate, compile, a warm cache's start (what ``monitor match`` pays
before its first post), and matching the posts. ``--only-split`` runs that table alone.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.language import get_detector
from monitor.log import configure_logging
from monitor.matching import Matcher, normalize

AR_WORDS = (
    "قال في من على إلى أن الحكومة العراقية بغداد اليوم الفصائل المسلحة وزير الخارجية بيان "
    "رئيس الوزراء البرلمان الانتخابات الأمن الحدود الاقتصاد النفط مصدر مطلع هجوم صاروخي "
    "قاعدة عسكرية الجيش الشعب المدينة المحافظة"
).split()
FA_WORDS = (
    "گفت در از به که این آن دولت ایران تهران امروز وزیر امور خارجه سخنگوی مجلس انتخابات "
    "اقتصاد نفت منبع حمله موشکی پایگاه نظامی ارتش مردم شهر استان می‌گوید کشورها"
).split()
EN_WORDS = (
    "the said in of to and a government Baghdad today minister foreign statement prime "
    "parliament election security border economy oil source attack missile base military "
    "army people city province reported officials"
).split()
LANG_WORDS = {"ar": AR_WORDS, "fa": FA_WORDS, "en": EN_WORDS}
AR_SYL = list("بتثجحخدذرزسشصضطظعغفقلمنهوي")
FA_SYL = list("بپتجچحخدرزژسشعفقکگلمنوهی")
EN_SYL = ["ka", "ri", "mo", "sa", "de", "lu", "ha", "zi", "no", "be", "ta", "qu", "sh", "el"]


@dataclass(frozen=True)
class Entity:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    infer: bool = True


def _word(rng: random.Random, script: str) -> str:
    if script == "en":
        return "".join(rng.choice(EN_SYL) for _ in range(rng.randint(2, 4))).capitalize()
    letters = AR_SYL if script == "ar" else FA_SYL
    return "".join(rng.choice(letters) for _ in range(rng.randint(3, 6)))


def make_aliases(n: int, rng: random.Random) -> list[str]:
    vocabulary = {normalize(w) for words in LANG_WORDS.values() for w in words}
    aliases: set[str] = set()
    while len(aliases) < n:
        script = ("ar", "fa", "en")[len(aliases) % 3]
        words = [_word(rng, script) for _ in range(rng.randint(1, 3))]
        if any(normalize(w) in vocabulary for w in words):
            continue  # a watched name that is also a common word would flag every post
        if script == "en" and rng.random() < 0.3:
            words.insert(len(words) - 1, "al-")
        aliases.add(" ".join(words).replace("- ", "-"))
    return sorted(aliases)


def make_posts(n: int, aliases: list[str], rng: random.Random) -> list[str]:
    posts = []
    for _ in range(n):
        lang = rng.choice(("ar", "fa", "en"))
        words = [rng.choice(LANG_WORDS[lang]) for _ in range(rng.randint(15, 45))]
        if rng.random() < 0.15:  # one post in seven mentions a watched entity
            words.insert(rng.randrange(len(words)), rng.choice(aliases))
        text = " ".join(words)
        if rng.random() < 0.2:  # some noise: tatweel and zero-width characters
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice(("\u0640", "\u200c", "\u200f")) + text[i:]
        posts.append(text)
    return posts


def best_rate(fn: Callable[[], object], n: int, repeat: int) -> float:
    """Items per second of the fastest of ``repeat`` runs (as timeit does: others are noise)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n / best


def time_matcher(matcher: Matcher, posts: list[str], repeat: int) -> tuple[float, int]:
    hits = sum(len(matcher.match(p)) for p in posts)
    return best_rate(lambda: [matcher.match(p) for p in posts], len(posts), repeat), hits


def time_regex_loop(aliases: list[str], posts: list[str], budget: float) -> float:
    patterns = [re.compile(r"\b" + re.escape(a) + r"\b", re.IGNORECASE) for a in aliases]
    done = 0
    t0 = time.perf_counter()
    for post in posts:
        for pattern in patterns:
            pattern.search(post)
        done += 1
        if time.perf_counter() - t0 > budget:
            break
    return done / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--regex-budget", type=float, default=3.0, help="seconds per size")
    parser.add_argument("--skip-throughput", action="store_true", help="only the start-up part")
    parser.add_argument("--against", type=Path, help="another source tree for `monitor match`")
    parser.add_argument(
        "--old-up-to", type=int, default=10_000, help="largest size timed the old (slow) way"
    )
    parser.add_argument(
        "--only-command",
        action="store_true",
        help="only `monitor match` end to end (with --against: beside that tree)",
    )
    parser.add_argument(
        "--only-split",
        action="store_true",
        help="only the load / compile / cached start / match split beside --against",
    )
    args = parser.parse_args()
    configure_logging(level="WARNING")  # to stderr; a cache hit is logged at debug
    if args.only_split:
        if args.against is None:
            parser.error("--only-split needs --against DIR")
        split_against(args)
        return
    if args.only_command:
        with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
            rng = random.Random(args.seed)
            write_watchlist(Path(tmp) / "w10000", 10_000, rng)
            match_command(Path(tmp) / "w10000", args.posts, rng, args.against)
        return
    if not args.skip_throughput:
        throughput(args)
    startup(args)


def throughput(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)

    print(f"{args.posts} generated posts (ar/fa/en, ~15% with a mention), one core; matcher")
    print("posts/s with inferred spellings off and on, timed in turn (best of --repeat)\n")
    print(
        "| aliases | compile s (on) | matcher posts/s (inference off) | matcher posts/s "
        "(inference on) | on / off | regex loop posts/s | speed-up (on) | matches off / on |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")  # fmt: skip
    for n in (10, 1_000, 10_000):
        aliases = make_aliases(n, rng)
        posts = make_posts(args.posts, aliases, rng)
        matchers = {}
        for infer in (False, True):
            t0 = time.perf_counter()
            matchers[infer] = Matcher.compile(
                Entity(f"e{i}", a, infer=infer) for i, a in enumerate(aliases)
            )
            compile_s = time.perf_counter() - t0
        rates, hits = side_by_side(matchers, posts, args.repeat)
        baseline = time_regex_loop(aliases, posts, args.regex_budget)
        off, on = rates[False], rates[True]
        print(f"| {n:,} | {compile_s:.2f} | {off:,.0f} | {on:,.0f} | {on / off:.2f} "
              f"| {baseline:,.1f} | {on / baseline:,.0f}× | {hits[False]:,} / {hits[True]:,} |",
              flush=True)  # fmt: skip

    precision_recall()

    print(f"\n{'language ID':>12} {'posts/s':>10}")
    posts = make_posts(min(args.posts, 20_000), make_aliases(10, rng), rng)
    for name, sample, repeat in (("fast", posts, args.repeat), ("langdetect", posts[:500], 1)):
        detector = get_detector(name)
        detector.detect(sample[0])  # load the model outside the timing
        rate = best_rate(lambda d=detector, s=sample: d.detect_many(s), len(sample), repeat)
        print(f"{name:>12} {rate:>10,.0f}")


def side_by_side(
    matchers: dict[bool, Matcher], posts: list[str], repeat: int
) -> tuple[dict[bool, float], dict[bool, int]]:
    """Posts/s of each matcher, timed in turn ``repeat`` times (so load hits both alike)."""
    hits = {k: sum(len(m.match(p)) for p in posts) for k, m in matchers.items()}
    best = dict.fromkeys(matchers, float("inf"))
    for _ in range(repeat):
        for key, matcher in matchers.items():
            t0 = time.process_time()
            for post in posts:
                matcher.match(post)
            best[key] = min(best[key], time.process_time() - t0)
    return {k: len(posts) / t for k, t in best.items()}, hits


HELD_OUT = Path(__file__).resolve().parents[1] / "tests" / "matching" / "data"


def precision_recall() -> None:
    """Precision and recall over (post, entity) pairs of the labelled held-out set."""
    from monitor.config import load_entities

    entities = load_entities(HELD_OUT / "inferred_watchlist.yaml")
    with (HELD_OUT / "inferred_posts.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    matchers = {
        "before": Matcher.compile([e.model_copy(update={"infer": False}) for e in entities]),
        "after": Matcher.compile(entities),
    }
    print(f"\nHeld-out set of issue 16: {len(rows)} posts, {len(entities)} entities; before =")
    print("inference off, after = on; precision and recall over (post, entity) pairs\n")
    print(
        "| posts | n | mentions | precision before | recall before | precision after "
        "| recall after |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")  # fmt: skip
    for lang in ("ar", "fa", "en", "ru", None):
        subset = [r for r in rows if lang is None or r["lang"] == lang]
        cells = []
        for matcher in matchers.values():
            tp = fp = fn = 0
            for row in subset:
                got = {m.entity_id for m in matcher.match(row["text"])}
                want = set(row["expected"])
                tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
            cells += [f"{tp / (tp + fp):.2f}" if tp + fp else "—", f"{tp / (tp + fn):.2f}"]
        mentions = sum(len(r["expected"]) for r in subset)
        print(f"| {lang or 'all'} | {len(subset)} | {mentions} | " + " | ".join(cells) + " |")


# --- start-up: load, validate, compile; reload stalls; `monitor match` end to end -------------

SIZES = (100, 1_000, 10_000, 50_000)
ALIASES_PER_ENTITY = 4
CHANNELS_YAML = """\
defaults: {poll_every: 5m, backfill: 200, media: [photo]}
include: [entities/*.yaml]
channels:
  - handle: "@khazali_media_sim"
    tags: [militia, iraq]
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases: ["قيس الخزعلي", "قیس خزعلی", "al-Khazali"]
"""


def write_watchlist(directory: Path, n_aliases: int, rng: random.Random) -> list[str]:
    """channels.yaml plus entities/imported.yaml with ``n_aliases`` aliases; returns all names."""
    n_entities = max(1, n_aliases // ALIASES_PER_ENTITY)
    names = make_aliases(n_entities * (ALIASES_PER_ENTITY + 1), rng)
    rng.shuffle(names)
    entities = []
    for i in range(n_entities):
        chunk = names[i * (ALIASES_PER_ENTITY + 1) : (i + 1) * (ALIASES_PER_ENTITY + 1)]
        entities.append(
            {"id": f"entity-{i}", "name": chunk[0], "kind": "person", "aliases": chunk[1:]}
        )
    (directory / "entities").mkdir(parents=True, exist_ok=True)
    with (directory / "entities" / "imported.yaml").open("w", encoding="utf-8") as fh:
        fh.write("# Imported by `monitor entities import` (generated for the benchmark).\n")
        yaml.dump(
            {"entities": entities},
            fh,
            Dumper=yaml.CSafeDumper,
            allow_unicode=True,
            default_flow_style=False,
            sort_keys=False,
        )
    (directory / "channels.yaml").write_text(CHANNELS_YAML, encoding="utf-8")
    return names


def old_compile(entities: Any) -> Any:
    """The matcher as compiled before: a tuple of AliasForm objects per key in the automaton."""
    import ahocorasick

    from monitor.matching import expand_alias

    by_key: dict[str, list[Any]] = {}
    for entity in entities:
        seen: set[str] = set()
        for alias in [entity.name, *entity.aliases]:
            if alias and alias not in seen:
                seen.add(alias)
                for form in expand_alias(str(entity.id), alias):
                    by_key.setdefault(form.key, []).append(form)
    automaton = ahocorasick.Automaton()
    for key, forms in by_key.items():
        automaton.add_word(f" {key} ", (len(key) + 2, tuple(forms)))
    automaton.make_automaton()
    return automaton


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of this process (not wall time: other load on the machine does not count;
    everything timed this way runs in this one thread)."""
    t0 = time.process_time()
    value = fn()
    return time.process_time() - t0, value


def startup(args: argparse.Namespace) -> None:
    from monitor.config import compile_matcher, load_watchlist
    from monitor.config.compiled import paused_gc
    from monitor.config.loader import _Builder
    from monitor.config.yamlfast import fast_load
    from monitor.config.yamlpos import parse_yaml

    rng = random.Random(args.seed)
    print("\nStart-up, CPU seconds (old: ruamel round-trip YAML, tuple automaton; new: libyaml,")
    print("ruamel only on a problem, int automaton; cached: the compiled matcher from the cache)\n")
    print("| aliases | YAML old | YAML new | load + validate old | load + validate new "
          "| compile old | compile new | compile cached | match 20k posts | total old | total new "
          "| total cached |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
        for n in SIZES:
            directory = Path(tmp) / f"w{n}"
            names = write_watchlist(directory, n, rng)
            channels = directory / "channels.yaml"
            entities_text = (directory / "entities" / "imported.yaml").read_text(encoding="utf-8")
            old = n <= args.old_up_to
            gc.collect()
            with paused_gc():  # as the loader reads it
                yaml_new, _ = timed(lambda t=entities_text: fast_load(t))
            load_new, watchlist = timed(lambda c=channels: load_watchlist(c, env={}))
            assert watchlist.alias_count() >= n, watchlist.alias_count()
            cache = directory / "cache"
            compile_new, matcher = timed(lambda w=watchlist: compile_matcher(w.entities))
            _, _ = timed(lambda w=watchlist, c=cache: compile_matcher(w.entities, c))  # writes
            del matcher
            gc.collect()
            compile_cached, matcher = timed(
                lambda w=watchlist, c=cache: compile_matcher(w.entities, c)
            )
            posts = make_posts(args.posts, names, rng)
            match_s = min(
                timed(lambda m=matcher, p=posts: [m.match(x) for x in p])[0] for _ in range(2)
            )
            del matcher
            if old:
                gc.collect()
                yaml_old, _ = timed(lambda t=entities_text: parse_yaml(t, "imported.yaml"))
                load_old, slow = timed(
                    lambda d=directory, c=channels: _Builder({}, d).build(
                        c.read_text(encoding="utf-8"), str(c)
                    )
                )
                assert slow == watchlist
                compile_old, _ = timed(lambda w=watchlist: old_compile(w.entities))
                total_old = load_old + compile_old + match_s
                cells = [f"{yaml_old:.2f}", "", f"{load_old:.2f}", "", f"{compile_old:.2f}"]
            else:
                total_old = None
                cells = ["not run", "", "not run", "", "not run"]
            cells[1], cells[3] = f"{yaml_new:.2f}", f"{load_new:.2f}"
            row = [
                f"{n:,}",
                *cells,
                f"{compile_new:.2f}",
                f"{compile_cached:.2f}",
                f"{match_s:.2f}",
                f"{total_old:.2f}" if total_old is not None else "not run",
                f"{load_new + compile_new + match_s:.2f}",
                f"{load_new + compile_cached + match_s:.2f}",
            ]
            print("| " + " | ".join(row) + " |", flush=True)
        reload_stalls(Path(tmp) / "w10000")
        match_command(Path(tmp) / "w10000", args.posts, rng, args.against)
    if args.against is not None:
        split_against(args)


#: One step of start-up in a child process running the ``monitor`` of a source tree: "split"
#: loads and validates the watchlist, compiles it (no cache) and matches the posts; "cached"
#: is what ``monitor match`` does before its first post when its cache is warm (imports of
#: the watchlist code included), from a fresh process. CPU seconds as JSON on stdout.
_SPLIT_CHILD = """
import json, sys, time
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path.insert(0, sys.argv[1])
mode, channels, posts, cache = sys.argv[2:6]
from pathlib import Path
import monitor.cli
out = {}
if mode == "cached":
    t0 = time.process_time()
    try:
        from monitor.config.watchcache import matcher_for_file
    except ImportError:  # before the record of the watchlist's files: what match_cmd did
        from monitor.config import compile_matcher, load_entities
        matcher = compile_matcher(load_entities(Path(channels)), Path(cache))
    else:
        matcher = matcher_for_file(Path(channels), Path(cache))
    out["cached"] = time.process_time() - t0
else:
    from monitor.config import compile_matcher, load_entities
    t0 = time.process_time()
    entities = load_entities(Path(channels))
    t1 = time.process_time()
    matcher = compile_matcher(entities)
    t2 = time.process_time()
    with open(posts, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    t3 = time.process_time()
    out["matches"] = sum(len(matcher.match(text)) for text in texts)
    out.update(load=t1 - t0, compile=t2 - t1, match=time.process_time() - t3)
print(json.dumps(out))
"""


def split_against(args: argparse.Namespace) -> None:
    """Start-up split of ours and the ``--against`` tree, side by side, at each size: load and
    validate, compile, a warm cache's start (what ``monitor match`` pays before its first
    post), and matching the posts. Each step runs in a fresh process per tree, round-robin
    (2 rounds, least CPU kept)."""
    assert args.against is not None
    ours = str(Path(__file__).resolve().parents[1])
    trees = {"base": str(args.against.resolve()), "ours": ours}
    rng = random.Random(args.seed)
    print(f"\nStart-up split, ours against {args.against} (base), CPU seconds, fresh process per")
    print(f"step; {args.posts:,} posts; cached = a warm cache's start (base: read and validate")
    print("the watchlist, then the cached automaton; ours: the record of its files)\n")
    print("| aliases | load + validate base / ours | compile base / ours | cached start base / ours "
          "| match posts base / ours | posts/s base / ours | cached start + match base / ours "
          "| matches base / ours |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        for n in SIZES:
            directory = Path(tmp) / f"w{n}"
            names = write_watchlist(directory, n, rng)
            posts = directory / "posts.jsonl"
            with posts.open("w", encoding="utf-8") as fh:
                for i, text in enumerate(make_posts(args.posts, names, rng)):
                    fh.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
            best: dict[str, dict[str, float]] = {label: {} for label in trees}
            for label, tree in trees.items():  # writes each tree's cache (not timed)
                _split_child(tree, "cached", directory, posts, directory / f"cache-{label}")
            for _ in range(2):
                for label, tree in trees.items():
                    cache = directory / f"cache-{label}"
                    for mode in ("split", "cached"):
                        for key, value in _split_child(tree, mode, directory, posts, cache).items():
                            best[label][key] = min(value, best[label].get(key, value))
            base, new = best["base"], best["ours"]

            def pair(key: str, a: dict[str, float] = base, b: dict[str, float] = new) -> str:
                return f"{a[key]:.2f} / {b[key]:.2f}"

            rates = f"{args.posts / base['match']:,.0f} / {args.posts / new['match']:,.0f}"
            totals = f"{base['cached'] + base['match']:.2f} / {new['cached'] + new['match']:.2f}"
            print(f"| {n:,} | {pair('load')} | {pair('compile')} | {pair('cached')} "
                  f"| {pair('match')} | {rates} | {totals} "
                  f"| {base['matches']:,.0f} / {new['matches']:,.0f} |", flush=True)  # fmt: skip


def _split_child(tree: str, mode: str, directory: Path, posts: Path, cache: Path) -> Any:
    cache.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _SPLIT_CHILD,
            tree,
            mode,
            str(directory / "channels.yaml"),
            str(posts),
            str(cache),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])  # after any log line (base logs a hit)


def reload_stalls(directory: Path) -> None:
    """The longest pause of a 5 ms ticker while a 10,000-alias watchlist is (re)loaded."""
    from types import SimpleNamespace

    from monitor.config import load_watchlist
    from monitor.config.loader import _Builder
    from monitor.service import load_compiled

    channels = directory / "channels.yaml"

    def old_reload() -> None:  # what Runtime.reload did, on the loop
        watchlist = _Builder({}, directory).build(channels.read_text(encoding="utf-8"), "x")
        old_compile(watchlist.entities)

    async def measure(work: Callable[[], Any], in_thread: bool) -> tuple[float, float, int]:
        gaps: list[float] = []
        running = True

        async def ticker() -> None:
            last = time.perf_counter()
            while running:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        gaps.clear()
        t0 = time.perf_counter()
        if in_thread:
            await asyncio.to_thread(work)
        else:
            work()
        took = time.perf_counter() - t0
        running = False
        await task
        return took, max(gaps), len(gaps)

    load_watchlist(channels, env={})  # warm imports
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as data:
        settings = SimpleNamespace(channels_file=channels, data_dir=Path(data))
        cases = [
            ("old: load and compile on the loop", old_reload, False),
            ("new, entities changed (compiled in a child process)",
             lambda: load_compiled(settings, isolate=True), True),
            ("new, entities unchanged (cache hit)",
             lambda: load_compiled(settings, isolate=True), True),
        ]  # fmt: skip
        print("\nHot reload of a 10,000-alias watchlist: the event loop's longest pause\n")
        print("| reload | reload s | longest loop pause ms | ticks during the reload |")
        print("| --- | ---: | ---: | ---: |")
        for name, work, in_thread in cases:
            gc.collect()
            took, gap, ticks = asyncio.run(measure(work, in_thread))
            print(f"| {name} | {took:.2f} | {gap * 1000:,.0f} | {ticks:,} |", flush=True)


def match_command(
    directory: Path, n_posts: int, rng: random.Random, against: Path | None = None
) -> None:
    """``monitor match`` on n posts against the 10,000-alias watchlist, as a subprocess; with
    ``against``, the same command from that source tree too, round-robin (3 rounds, least CPU)."""
    entities_text = (directory / "entities" / "imported.yaml").read_text(encoding="utf-8")
    names = [
        name
        for entity in yaml.load(entities_text, Loader=yaml.CSafeLoader)["entities"]
        for name in (entity["name"], *entity["aliases"])
    ]
    posts = directory / "posts.jsonl"
    with posts.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(make_posts(n_posts, names, rng)):
            fh.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    trees: list[tuple[str, str]] = [("", str(Path(__file__).resolve().parents[1]))]
    if against is not None:
        trees.append((f" ({against.name})", str(against.resolve())))
    print(f"\n`monitor match --json` on {n_posts:,} posts, 10,000 aliases, end to end\n")
    print("| run | wall s | CPU s | posts/s (CPU) | matches | cache MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    runs = [
        ("no data directory (compiled every time)", "missing"),
        ("first run (compiles, writes the cache)", "data"),
        ("next runs (cache hit)", "data"),
    ]
    for name, folder in runs:
        best: dict[str, tuple[float, float, int, float]] = {}
        for _ in range(1 if name.startswith("first") else 3):
            for label, pythonpath in trees:
                data_dir = directory / f"{folder}{label.strip(' ()')}"
                if folder == "data":
                    data_dir.mkdir(exist_ok=True)
                took, cpu, matches = _run_match(directory, posts, data_dir, pythonpath)
                cache = sum(f.stat().st_size for f in data_dir.glob("cache/*.bin")) / 1e6
                if label not in best or cpu < best[label][1]:
                    best[label] = (took, cpu, matches, cache)
        for label, _ in trees:
            took, cpu, matches, cache = best[label]
            size = f"{cache:.0f}" if cache else ""
            print(f"| {name}{label} | {took:.2f} | {cpu:.2f} | {n_posts / cpu:,.0f} | {matches:,} "
                  f"| {size} |", flush=True)  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import monitor.cli"], check=True)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"| of which: starting the CLI (`import monitor.cli`) | {took:.2f} | {cpu:.2f} | | | |")


#: ``monitor`` from the source tree first on sys.path: the editable install's import hook (which
#: would always load this checkout, whatever PYTHONPATH says) is taken out first.
_MONITOR_FROM = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path.insert(0, sys.argv.pop(1))
sys.argv[0] = "monitor"
from monitor.cli import main
main()
"""


def _run_match(directory: Path, posts: Path, data_dir: Path, tree: str) -> tuple[float, float, int]:
    """One ``monitor match --json`` run of the source ``tree``: wall s, CPU s, lines printed."""
    env = {**os.environ, "MONITOR_DATA_DIR": str(data_dir)}
    watchlist = str(directory / "channels.yaml")
    with posts.open("rb") as stdin:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _MONITOR_FROM,
                tree,
                "match",
                "--watchlist",
                watchlist,
                "--json",
            ],
            stdin=stdin,
            capture_output=True,
            env=env,
            check=True,
        )
        took = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, cpu, done.stdout.count(b"\n")


if __name__ == "__main__":
    main()
