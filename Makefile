# Quick start: `make demo` and `make test`. Both install the system libraries
# Strata needs (libyaml, libpng, pkg-config) with apt-get when they are missing.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
RELEASE_BIN := .build/release/strata
DEBUG_BIN := .build/debug/strata

.PHONY: all deps build release demo test test-swift test-scripts clean

all: build

deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists yaml-0.1 libpng; then \
		echo "==> installing libyaml-dev, libpng-dev and pkg-config with apt-get"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libyaml-dev libpng-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: release
	@echo "==> strata check Specs/  (every spec in the model library)"
	$(RELEASE_BIN) check Specs/
	@echo
	@echo "==> strata check docs/examples/mistakes.yaml  (a spec with five independent mistakes)"
	@$(RELEASE_BIN) check docs/examples/mistakes.yaml || echo "(exit status $$?: the spec has errors, as intended here)"
	@echo
	@echo "==> strata summary Specs/dcgan-64.yaml --dims N=64  (a generative model, shapes proven for every batch size)"
	$(RELEASE_BIN) summary Specs/dcgan-64.yaml --dims N=64
	@echo
	@echo "==> strata run Specs/dcgan-64.yaml --network generator --input z=normal --dims N=16 --output image=out/dcgan-grid.png"
	@mkdir -p out
	$(RELEASE_BIN) run Specs/dcgan-64.yaml --network generator --input z=normal --dims N=16 --output image=out/dcgan-grid.png --output image=-
	@echo "(a 4x4 grid of untrained samples in out/dcgan-grid.png)"

# The release build is part of the test: the optimizer has crashed on code
# that builds fine in debug. The script checks run before swift test so that
# its summary is the last line.
test: deps release test-scripts test-swift

test-swift:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# SARIF output against the official schema; the model library against our
# JSON Schema; every spec's ONNX export under ONNX Runtime (and its PyTorch
# export, where torch is installed) against `strata run`. They need python3
# packages, installed with pip when possible; each says so when it cannot run.
test-scripts:
	$(SWIFT) build
	bash scripts/validate-sarif.sh $(DEBUG_BIN)
	bash scripts/validate-schema.sh
	bash scripts/check-export.sh $(DEBUG_BIN)

clean:
	rm -rf .build
