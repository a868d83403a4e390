package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/signoff/signoff"
)

// Open returns a Store on the Redis that rawURL (REDIS_URL) names. It accepts:
//
//	redis://[[user]:password@]host[:port][/db][?option=value...]
//	rediss://...                      the same over TLS
//	redis://host:port,host:port,...   several addresses: Cluster seed nodes
//	redis+cluster://[[user]:password@]host:port[,host:port...][?option=value...]
//	redis+sentinel://[[user]:password@]host:port[,host:port...]/master[/db][?option=value...]
//	host:port[,host:port...]          as redis://
//
// rediss+cluster and rediss+sentinel use TLS. The port defaults to 6379 and
// the database to 0; a Cluster has only database 0. With Sentinel, the
// user and password are those of the master and replicas; the sentinels'
// own, if any, go in the options sentinel_username and sentinel_password.
// Other options are go-redis's, in snake case (dial_timeout=2s,
// pool_size=50, ...; see redis.ParseURL).
//
// Unless the URL asks for protocol=3, the client speaks RESP2: this package
// needs nothing of RESP3, and RESP3's push-notification handling costs CPU
// on every command.
//
// Open does not wait for Redis to answer; Ping does. A URL it cannot read
// is an error of kind signoff.ErrInvalid, which never repeats the password.
// Close closes the client.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	cfg, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	rdb := cfg.client()
	s := New(rdb, log)
	s.owned = rdb.Close
	s.log.InfoContext(ctx, "redisstore: using Redis", "mode", cfg.mode, "addrs", cfg.addrs, "url", redact(rawURL))
	return s, nil
}

// redisConfig is what a REDIS_URL says: exactly one of the option sets.
type redisConfig struct {
	mode     string // "single", "cluster" or "sentinel"
	addrs    []string
	single   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

func (c redisConfig) client() redis.UniversalClient {
	resp2 := func(p *int) {
		if *p == 0 {
			*p = 2
		}
	}
	switch {
	case c.cluster != nil:
		resp2(&c.cluster.Protocol)
		return redis.NewClusterClient(c.cluster)
	case c.failover != nil:
		resp2(&c.failover.Protocol)
		return redis.NewFailoverClient(c.failover)
	}
	resp2(&c.single.Protocol)
	return redis.NewClient(c.single)
}

func parseURL(raw string) (redisConfig, error) {
	raw = strings.TrimSpace(raw)
	bad := func(why string, cause error) (redisConfig, error) {
		var uerr *url.Error
		if errors.As(cause, &uerr) {
			cause = uerr.Err // url.Error repeats the URL, password and all
		}
		msg := fmt.Sprintf("redisstore: REDIS_URL %q", redact(raw))
		if why != "" {
			msg += ": " + why
		}
		if cause != nil {
			msg += ": " + cause.Error()
		}
		return redisConfig{}, fmt.Errorf("%s: %w", msg, signoff.ErrInvalid)
	}
	if raw == "" {
		return bad("empty", nil)
	}
	if !strings.Contains(raw, "://") {
		raw = "redis://" + raw
	}
	scheme, rest, _ := strings.Cut(raw, "://")
	base, mode, _ := strings.Cut(strings.ToLower(scheme), "+")
	if base != "redis" && base != "rediss" {
		return bad("want a redis:// or rediss:// URL", nil)
	}

	// [userinfo@]host[,host...] then [/path][?query]
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostlist := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hostlist = authority[:at+1], authority[at+1:]
	}
	var hosts []string
	for h := range strings.SplitSeq(hostlist, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return bad("no host", nil)
	}
	path, query, _ := strings.Cut(tail, "?")
	first := base + "://" + userinfo + hosts[0]

	switch mode {
	case "":
		if len(hosts) > 1 {
			break // several seeds: a Cluster
		}
		o, err := redis.ParseURL(first + tail)
		if err != nil {
			return bad("", err)
		}
		return redisConfig{mode: "single", addrs: []string{o.Addr}, single: o}, nil
	case "cluster":
	case "sentinel":
		return parseSentinel(base, userinfo, hosts, path, query, bad)
	default:
		return bad("unknown mode +"+mode+"; want +cluster or +sentinel", nil)
	}

	if p := strings.Trim(path, "/"); p != "" && p != "0" {
		return bad("a Cluster has only database 0", nil)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("options", err)
	}
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	o, err := redis.ParseClusterURL(first + "?" + q.Encode())
	if err != nil {
		return bad("", err)
	}
	return redisConfig{mode: "cluster", addrs: o.Addrs, cluster: o}, nil
}

func parseSentinel(base, userinfo string, hosts []string, path, query string,
	bad func(string, error) (redisConfig, error)) (redisConfig, error) {
	master, db, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if master == "" {
		return bad("Sentinel needs the master's name: redis+sentinel://host:port/master", nil)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("options", err)
	}
	sentinelUser, sentinelPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	q.Set("master_name", master)
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	u := base + "://" + hosts[0]
	if db != "" {
		u += "/" + db
	}
	o, err := redis.ParseFailoverURL(u + "?" + q.Encode())
	if err != nil {
		return bad("", err)
	}
	if userinfo != "" {
		ui, err := url.Parse(base + "://" + userinfo + "x")
		if err != nil {
			return bad("user", err)
		}
		o.Username = ui.User.Username()
		o.Password, _ = ui.User.Password()
	}
	o.SentinelUsername, o.SentinelPassword = sentinelUser, sentinelPass
	return redisConfig{mode: "sentinel", addrs: o.SentinelAddrs, failover: o}, nil
}

// redact hides the password of a Redis URL, and a sentinel_password option.
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			rest = user + ":xxxxx" + rest[at:]
		}
	}
	if path, query, ok := strings.Cut(rest, "?"); ok {
		if q, err := url.ParseQuery(query); err == nil && q.Has("sentinel_password") {
			q.Set("sentinel_password", "xxxxx")
			rest = path + "?" + q.Encode()
		}
	}
	return scheme + "://" + rest
}
