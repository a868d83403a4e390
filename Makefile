# Signoff. `make run` starts the server; `make test` runs every test.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
FUZZTIME ?= 10s

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
	$(GO) test -run='^$$' -fuzz='^FuzzParseReply$$' -fuzztime=$(FUZZTIME) ./dialog
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./channels/orderhook
	$(GO) test -run='^$$' -fuzz='^FuzzCourierToken$$' -fuzztime=$(FUZZTIME) ./channels
	$(GO) test -run='^$$' -fuzz='^FuzzSSE$$' -fuzztime=$(FUZZTIME) ./cmd/signoffctl
	$(GO) test -run='^$$' -fuzz='^FuzzReadWAV$$' -fuzztime=$(FUZZTIME) ./speech
	$(GO) test -run='^$$' -fuzz='^FuzzParseTelephoneEvent$$' -fuzztime=$(FUZZTIME) ./speech
	$(GO) test -run='^$$' -fuzz='^FuzzRTPIn$$' -fuzztime=$(FUZZTIME) ./channels/voice
	$(GO) test -run='^$$' -fuzz='^FuzzSDPFrag$$' -fuzztime=$(FUZZTIME) ./channels/voice
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./channels/voicemsg
	$(GO) test -run='^$$' -fuzz='^FuzzForm$$' -fuzztime=$(FUZZTIME) ./channels/sms
	$(GO) test -run='^$$' -fuzz='^FuzzOpen$$' -fuzztime=$(FUZZTIME) ./channels/wechat
	$(GO) test -run='^$$' -fuzz='^FuzzParseAccounts$$' -fuzztime=$(FUZZTIME) ./channels/console
	$(GO) test -run='^$$' -fuzz='^FuzzParseProof$$' -fuzztime=$(FUZZTIME) ./channels/proof
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) ./dialog/receipt
	$(GO) test -run='^$$' -fuzz='^FuzzCanonical$$' -fuzztime=$(FUZZTIME) ./dialog/evidence
	$(GO) test -run='^$$' -fuzz='^FuzzRecordCanonical$$' -fuzztime=$(FUZZTIME) ./dialog/evidence
	$(GO) test -run='^$$' -fuzz='^FuzzClientIP$$' -fuzztime=$(FUZZTIME) ./cmd/signoffd
	$(GO) test -run='^$$' -fuzz='^FuzzCheckOffer$$' -fuzztime=$(FUZZTIME) ./channels/video
	$(GO) test -run='^$$' -fuzz='^FuzzSDPFrag$$' -fuzztime=$(FUZZTIME) ./channels/rtc
	$(GO) test -run='^$$' -fuzz='^FuzzParseDocument$$' -fuzztime=$(FUZZTIME) ./knowledge
	$(GO) test -run='^$$' -fuzz='^FuzzParseSynonyms$$' -fuzztime=$(FUZZTIME) ./knowledge
	$(GO) test -run='^$$' -fuzz='^FuzzSentences$$' -fuzztime=$(FUZZTIME) ./knowledge
	$(GO) test -run='^$$' -fuzz='^FuzzParseChoice$$' -fuzztime=$(FUZZTIME) ./knowledge/llm

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
