# Signoff. `make run` starts the server; `make test` runs every test.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
# Count-based budgets: a duration-based -fuzztime can fail with a spurious
# "context deadline exceeded" in Go 1.26 (golang/go#75804, fixed in 1.27).
FUZZTIME ?= 20000x

.PHONY: run test deps build vet fuzz bench callbench bench-nodes videobench clean

## run: check what the server needs, then start it (embedded store unless REDIS_URL is set)
run:
	@command -v $(GO) >/dev/null || { echo "Go is required: https://go.dev/doc/install" >&2; exit 1; }
	@deploy/deps.sh run
	$(GO) run ./cmd/signoffd

## test: install what the tests need, then formatting, vet, race tests and short fuzzing
test: deps vet
	$(GO) test -race -count=1 -timeout 12m ./...
	$(MAKE) --no-print-directory fuzz

deps:
	@deploy/deps.sh test

vet:
	@out=$$(gofmt -l . 2>&1); if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: every fuzz target for a parser of outside input, briefly
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseReply$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./dialog
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/orderhook
	$(GO) test -run='^$$' -fuzz='^FuzzCourierToken$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels
	$(GO) test -run='^$$' -fuzz='^FuzzSSE$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./cmd/signoffctl
	$(GO) test -run='^$$' -fuzz='^FuzzReadWAV$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./speech
	$(GO) test -run='^$$' -fuzz='^FuzzParseTelephoneEvent$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./speech
	$(GO) test -run='^$$' -fuzz='^FuzzRTPIn$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/voice
	$(GO) test -run='^$$' -fuzz='^FuzzSDPFrag$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/voice
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/voicemsg
	$(GO) test -run='^$$' -fuzz='^FuzzForm$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/sms
	$(GO) test -run='^$$' -fuzz='^FuzzOpen$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/wechat
	$(GO) test -run='^$$' -fuzz='^FuzzParseAccounts$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/console
	$(GO) test -run='^$$' -fuzz='^FuzzParseProof$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/proof
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./dialog/receipt
	$(GO) test -run='^$$' -fuzz='^FuzzCanonical$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./dialog/evidence
	$(GO) test -run='^$$' -fuzz='^FuzzRecordCanonical$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./dialog/evidence
	$(GO) test -run='^$$' -fuzz='^FuzzClientIP$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./cmd/signoffd
	$(GO) test -run='^$$' -fuzz='^FuzzCheckOffer$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/video
	$(GO) test -run='^$$' -fuzz='^FuzzSDPFrag$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./channels/rtc
	$(GO) test -run='^$$' -fuzz='^FuzzParseDocument$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./knowledge
	$(GO) test -run='^$$' -fuzz='^FuzzParseSynonyms$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./knowledge
	$(GO) test -run='^$$' -fuzz='^FuzzSentences$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./knowledge
	$(GO) test -run='^$$' -fuzz='^FuzzParseChoice$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x ./knowledge/llm

build:
	$(GO) build -o bin/ ./cmd/...

## bench: a real redis-server and signoffd on free ports, driven by signoffctl bench
bench: deps build
	deploy/bench.sh

## callbench: voice call latencies (greeting, keypad, barge-in) over 20 calls
callbench: deps build
	deploy/bench.sh call

## bench-nodes: turns/s and p99 with 1, 2 and 3 signoffd nodes on one Redis
bench-nodes: deps build
	deploy/bench-nodes.sh

## videobench: video call latency (offer to first remote frame) and server CPU over 10 calls in headless Chromium
videobench: deps
	$(GO) test ./cmd/signoffd -run '^TestVideoSpeed$$' -count=1 -v -timeout 10m -video.bench

clean:
	rm -rf bin
