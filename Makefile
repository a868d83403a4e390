# Signoff. `make run` starts the server; `make test` runs every test.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
FUZZTIME ?= 10s

.PHONY: run test deps build vet fuzz bench callbench clean

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
	$(GO) test -run='^$$' -fuzz='^FuzzSSE$$' -fuzztime=$(FUZZTIME) ./cmd/signoffctl
	$(GO) test -run='^$$' -fuzz='^FuzzReadWAV$$' -fuzztime=$(FUZZTIME) ./speech
	$(GO) test -run='^$$' -fuzz='^FuzzParseTelephoneEvent$$' -fuzztime=$(FUZZTIME) ./speech
	$(GO) test -run='^$$' -fuzz='^FuzzRTPIn$$' -fuzztime=$(FUZZTIME) ./channels/voice
	$(GO) test -run='^$$' -fuzz='^FuzzSDPFrag$$' -fuzztime=$(FUZZTIME) ./channels/voice
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./channels/voicemsg
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

clean:
	rm -rf bin
