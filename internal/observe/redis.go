package observe

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// RedisHook returns a go-redis hook that times every command and pipeline
// (signoff_redis_seconds) and traces it as a client span "redis <command>".
// Add it with client.AddHook; on a Cluster client it reaches every node.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m} }

type redisHook struct{ m *Metrics }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		start := time.Now()
		c, err := next(ctx, network, addr)
		h.observe("dial", start, err)
		return c, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := cmd.Name()
		ctx, span := tracer.Start(ctx, "redis "+name, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", "redis"), attribute.String("db.operation", name)))
		start := time.Now()
		err := next(ctx, cmd)
		h.observe(name, start, err)
		EndSpan(span, real(err))
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, span := tracer.Start(ctx, "redis pipeline", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", "redis"), attribute.Int("db.commands", len(cmds))))
		start := time.Now()
		err := next(ctx, cmds)
		h.observe("pipeline", start, err)
		EndSpan(span, real(err))
		return err
	}
}

func (h redisHook) observe(name string, start time.Time, err error) {
	if h.m == nil {
		return
	}
	h.m.redis.WithLabelValues(name).Observe(time.Since(start).Seconds())
	if real(err) != nil {
		h.m.redisErrors.WithLabelValues(name).Inc()
	}
}

// real drops redis.Nil, which is an answer, not a failure.
func real(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
