"""Columnar batch materializer: the stream-fed views from a world's event log, in SQL.

`trainers.materialize.run.materialize(world, store_cfg, cutoff_ms)` computes
`user_weak_signals`, `user_recent_items`, `colisten_edges` and `item_popularity` (and
writes `user_profile`) from the parquet event log as of a cut-off, with DuckDB: the rows
the stream worker (stream_processors/app.py, folds in user_state.py and pair_state.py)
writes after consuming the same events, version for version. It replaced a Python
replay of the stream's folds (trainers/backfill.py, ~1.1k events/s; bench/
materialize_bench.py --backfill-from times it from an old checkout). The pandas
reference of the rules is stream_processors/reference.py; the tests hold the reference,
a real worker and this equal.

The rules (the stream's, as the code has them):

- **Input.** Events with ts < cut-off that the event contract (colisten.events) accepts;
  the stream dead-letters the others, here they are counted by reason and fold into
  nothing. Each event id counts once (ids lower-cased; the first in (ts, user, item,
  ...) order). Events are folded in (ts, event_id) order, wherever they sit in the log.
- **Window.** W = 90 days of event time: a value as of time v counts entries with time
  in (v - W, v].
- **Watermarks.** Users are routed to `interactions` partitions, pairs and items to
  `colisten.pairs` partitions, by Kafka's murmur2 of the key over `partitions` (4, the
  stream's COLISTEN_PARTITIONS). A partition's watermark is the newest event (stage 2:
  record) time it has applied; an entry that leaves the window at time x is swept when
  its partition's watermark first reaches x, i.e. at the first event of that partition
  with ts >= x. So a key's value is as of its partition's watermark, and a key can change
  without an event of its own.
- **user_weak_signals.** Per counter of user_state.COUNTERS ((item_type, event_type) ->
  column; other pairs count toward none): the user's events in the window.
  `last_event_ms`: the user's newest event time.
- **user_recent_items.** The distinct items the user touched (any event type) in the
  window, each with its newest touch: its time and signal (the event type; of two
  touches in one millisecond, the later event id's). Newest first, ties by the larger
  item id, at most `cap` (50) per item type.
- **Co-listens.** A user co-listens a pair when they touch an item for the first time in
  the window (no touch of it in the previous W) while the other item is among their
  `cap` most recent items of its type, as they stood just before that event (earlier
  events of the same millisecond included, the window moved to the event's time). So a
  first touch emits at most 2 * cap records, and a pair touched only while one item sits
  beyond the cap does not count for that user. Pairs are canonical (colisten.pairs):
  audiobook first for ap, else the smaller id first.
- **colisten_edges.** Per pair: `n_users`, the distinct users with a co-listen in the
  window (a user co-listening a pair a hundred times adds 1); `first_colisten_ms` and
  `last_colisten_ms`, the earliest and latest co-listen in it (0 when none). An edge
  whose co-listens all expired keeps its row, with n_users 0.
- **item_popularity.** Per streamed item: streams and distinct streaming users over the
  90 and the 14 whole UTC days ending on the watermark's day (day = ts // 86_400_000).
- **Row timestamps.** Each row version is stamped with the event time at which it took
  effect, never processing time: a key gets a version at each of its events (edges:
  co-listen records; items: streams), at each sweep that drops one of its entries
  (stamped with the time of the event that moved the watermark), and, for
  item_popularity, at the first record of a day on which its row changes. One version
  per key and millisecond: the state after that millisecond's events.

Offline resolution. The trainers read user rows at each label's time - 1 ms
(trainers/two_tower/data.py: labels are each (user, item)'s first stream) and at the
cut-off (evaluation), colisten_edges at the cut-off (trainers/store_loader.py), and
item_popularity not at all. Every version of user_weak_signals, colisten_edges and
item_popularity goes offline: rows of a few scalars, O(events + co-listens) of them,
exact at any time. user_recent_items carries two lists of up to 50 ids with signals and
times per version; by default (`recent_items="labels"`) only the versions a label read
lands on (for each (user, item)'s first stream, the version in effect 1 ms before it)
and each user's last version go offline: exact for every read training and evaluation
make, and a read at any other time returns the newest kept version before it. On
`small` (split) that is 7,315 of 122,423 versions and halves the offline store (5.1 vs
10.7 MiB for every version). `recent_items="all"` keeps every
version.

Where a row here can differ from the stream's (none is a change of rule):

- Within one millisecond the stream writes each change of a key with a stamp 1 µs
  after the last; a point-in-time read at that millisecond sees its first change of it.
  Here the millisecond's versions are one, the state after all of them: what the
  reference gives as of that time.
- The stream drops a repeated event id only among the same user's 64 most recent ids;
  here an id counts once in the whole log (the contract's idempotency key).
- The stream folds in arrival order; events that arrive out of event-time order can pair
  differently there. Here, as in the reference, the log is folded in
  event-time order.

Layout: events.py (contract checks, dedupe), users.py (stage 1), edges.py and
popularity.py (stage 2), clock.py (sweep instants), partitions.py (murmur2),
running.py (running sums), plan.py (runs the steps on a DuckDB connection; every SQL
step transpiles to Spark SQL), write.py and run.py (the store and the entry point).
"""
