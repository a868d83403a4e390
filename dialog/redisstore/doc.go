// Package redisstore is the Redis adapter of dialog.Store, with the extras
// the HTTP layer needs: Ping, Subscribe (live transcript lines on any node),
// Log and Evidence (the event log as entries and as its hash chain) and
// Erase (a delivery's personal values).
//
// It runs on a single Redis, behind Sentinel, in a Redis Cluster, and on an
// in-process miniredis (Embedded). Every key of one delivery X carries the
// hash tag {d:X}, so that a Commit is one Lua script over keys of one slot:
//
//	so:{d:X}            hash, the delivery's state:
//	                      facts, facts.v   the facts (JSON) and their version
//	                      open             the open session's id, if any
//	                      s:<sid>, v:<sid> each session (JSON) and its version
//	                      head             "<seq>:<hash>" of the last log record
//	                      o:<seq>          the openings (sealed personal values
//	                                       and salts, JSON) of record <seq>;
//	                                       deleted by Erase
//	                      t:<sid>:<n>      transcript line n (deleted by Erase)
//	so:{d:X}:log        stream, the append-only evidence log; each entry has
//	                    the fields seq and rec (an evidence.Record, JSON),
//	                    chained by hash (see dialog/evidence)
//	so:{d:X}:wh:<id>    string, the stored answer to webhook <id>, kept 72 h
//	so:sid:<sid>        string, the delivery of session <sid>; immutable,
//	                    written before the session's first commit
//	so:timers           sorted set, session timers: member
//	                    "<delivery>\x00<sid>", score the due time in Unix ms;
//	                    a claimed timer becomes "<delivery>\x00<sid>\x00<due>"
//	                    scored at the end of its lease
//	so:ev:<sid>         pub/sub channel: each Posted line, as JSON
//
// Keeping a delivery's sessions in one hash lets the scripts name every key
// they touch in KEYS, as a Cluster requires, and lets a TTL reach all of a
// delivery with two PEXPIREs. A TTL reaches the so:sid: bindings too, but not
// webhook answers, which keep their 72 hours (see Store.Commit).
//
// This package knows Redis; package dialog must not import it.
package redisstore
