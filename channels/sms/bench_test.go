package sms

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkGreetingPush measures an opening webhook applied on one node to
// its greeting reaching the provider: commit, pub/sub, claim, render, send.
func BenchmarkGreetingPush(b *testing.B) {
	r := newRig(b, 1)
	i := 0
	for b.Loop() {
		i++
		id := "D-bench-" + strconv.Itoa(i)
		if _, err := r.nodes[0].hooks.Notify(b.Context(), openEvent(id, "+86139"+strconv.Itoa(10000000+i))); err != nil {
			b.Fatal(err)
		}
		select {
		case <-r.prov.got:
		case <-time.After(10 * time.Second):
			b.Fatal("no greeting")
		}
	}
}

// BenchmarkInboundText measures one signed inbound text ("9", repeat the
// menu) to its TwiML answer over HTTP.
func BenchmarkInboundText(b *testing.B) {
	r := newRig(b, 1)
	if _, err := r.nodes[0].hooks.Notify(b.Context(), openEvent("D-bench-in", "+8613900009999")); err != nil {
		b.Fatal(err)
	}
	<-r.prov.got
	i := 0
	for b.Loop() {
		i++
		status, body := r.text(0, "+8613900009999", "9", "SM-bench-"+strconv.Itoa(i))
		if status != 200 {
			b.Fatalf("%d %s", status, body)
		}
	}
}
