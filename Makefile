# Notify: an SMS mailing service. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
GO ?= go

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## start the service on the embedded SQLite database (./data/notify.db)
	$(GO) run . serve

.PHONY: test
test: ## run every test (the Postgres suite runs when Postgres answers; CI=true requires it)
	@set -o pipefail; log=$$(mktemp); $(GO) test -race -count=1 -timeout 30m ./... 2>&1 | tee $$log \
	  || { echo "== the failed tests, again (the output above is long):"; grep -E -A20 -- '--- FAIL|^panic:' $$log | head -300; rm -f $$log; exit 1; }; rm -f $$log

.PHONY: generate
generate: ## regenerate ent, gqlgen and migrations from ent/schema and graph/*.graphqls
	$(GO) generate ./...

.PHONY: verify
verify: generate ## regenerate and fail when the committed generated code is stale
	@git diff --exit-code --stat -- ent graph migrations gqlgen.yml || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- ent graph migrations)" || { git status --porcelain -- ent graph migrations; echo "generate created untracked files: commit them"; exit 1; }

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$unformatted" || { echo "not gofmt'd: $$unformatted"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck $$( ( $(GO) list ./... | grep -vE '/ent(/[a-z]+)?$$|/graph/generated$$'; $(GO) list ./ent/schema ) )

.PHONY: fuzz
fuzz: ## fuzz the validators for a while (FUZZTIME, default 20s each)
	@for f in FuzzValidPhone FuzzClientInput FuzzMailingInput FuzzImportCSV FuzzWebhookURL FuzzOptOutInput FuzzIdempotencyKey; do $(GO) test ./internal/campaign -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-20s} || exit 1; done
	$(GO) test ./internal/sendwindow -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./internal/live -run '^$$' -fuzz '^FuzzDataMessage$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./internal/live -run '^$$' -fuzz '^FuzzTextFrame$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./graph -run '^$$' -fuzz '^FuzzStatusFeed$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./graph/scalar -run '^$$' -fuzz '^FuzzMarshalTime$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./internal/live -run '^$$' -fuzz '^FuzzEncode$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./internal/rest -run '^$$' -fuzz '^FuzzDecodeBody$$' -fuzztime $${FUZZTIME:-20s}
	$(GO) test ./internal/webhook -run '^$$' -fuzz '^FuzzForbidden$$' -fuzztime $${FUZZTIME:-20s}

.PHONY: bench
bench: ## the live-status delivery benchmark, then end-to-end benchmarks on Postgres (real binary, fake sender; 1 and 3 instances, CPU per message); prints medians
	$(GO) test ./graph -run '^$$' -bench '^BenchmarkStatusDelivery$$' -benchtime 200x -count 6
	$(GO) run ./internal/bench $(BENCH_FLAGS)
	@echo "kill -9 of one of three instances a third into a mailing (20,000 recipients, 50 ms sender):"
	@set -o pipefail; KILL_RECIPIENTS=20000 $(GO) test -count=1 -run '^TestInstanceKillTakeover$$' -v . | grep -E 'killed pid|taken over|finished .* after the kill|duplicates;|^(--- |ok|FAIL)'

.PHONY: soak
soak: ## run the real service under mailings, API traffic and subscribers (SOAK_DURATION, default 10m); fails when it does not hold steady
	$(GO) run ./internal/soak $(SOAK_FLAGS)

.PHONY: ui
ui: ## build the web UI (web/: npm ci, typed operations from graph/*.graphqls, type check, vite) into web/dist, which the binary embeds; needs Node 20
	npm ci --prefix web --no-audit --no-fund
	npm run --prefix web codegen
	npm run --prefix web typecheck
	npm run --prefix web build

.PHONY: ui-perf
ui-perf: ## print the web UI's figures on the real binary: JS gzipped, dashboard first load, clients pages with 100,000 clients, long tasks during a fan-out
	UI_PERF=1 $(GO) test -count=1 -run '^TestUIPerformance$$' -v -timeout 30m . | grep -E 'PERF|^(---|ok|FAIL)'

.PHONY: build
build: ## build the binary into ./bin/notify
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/notify .
