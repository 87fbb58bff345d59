# KYC Desk. `make run` and `make test` work on a fresh machine with Go,
# Node/npm and the package registries; everything else is installed here.

GO      ?= go
BIN     := bin/kycdesk
# Files generated from sources and committed (checked by `make test`).
GENERATED = $$(git ls-files -co --exclude-standard '*_templ.go') static/css/app.css static/js/htmx.min.js

.PHONY: run build generate test check-format vet check-generated browser-deps go-test fuzz bench clean

run: build
	$(BIN) serve

build: generate
	$(GO) build -o $(BIN) ./cmd/kycdesk

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

generate: node_modules/.installed
	$(GO) tool templ generate -log-level error
	npx tailwindcss -c tailwind.config.js -i tailwind/input.css -o static/css/app.css --minify 2>/dev/null
	cp node_modules/htmx.org/dist/htmx.min.js static/js/htmx.min.js

test: browser-deps check-format vet check-generated fuzz go-test

check-format:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Regenerate, then fail if anything generated differed from what is in the
# tree: generated files are committed, so they must match their sources.
check-generated: node_modules/.installed
	@before=$$(cat $(GENERATED) 2>/dev/null | sha256sum); \
	$(MAKE) --no-print-directory generate >/dev/null; \
	after=$$(cat $(GENERATED) | sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "generated files were stale (templ, CSS or htmx); they are regenerated now: commit them"; exit 1; fi

# Chromium for the browser tests, from Debian's packages, when missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (apt-get)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

go-test: generate
	KYCDESK_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 6m ./...

# Short fuzzing of every parser of outside input, by execution count: a
# time-bounded run of go's fuzzer sometimes ends in "context deadline
# exceeded" with no failing input, which would make CI flaky. Longer runs:
# make fuzz FUZZTIME=5m.
FUZZTIME ?= 20000x
fuzz:
	@for target in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$target/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz $$target $$f"; \
			out=$$($(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$target 2>&1) || { echo "$$out"; exit 1; }; \
		done; \
	done

# Benchmarks at scale: figures are reported, never asserted.
bench: build
	$(GO) run ./cmd/bench
	$(GO) run ./cmd/bench-callbacks -bin $(BIN)

clean:
	rm -rf bin node_modules
