# The two entry points: `make demo` and `make test`. Everything else is CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: all deps build test test-asan fuzz demo demo-stop bench deb test-deb clean

all: build

deps:
	@./.ci/install-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j 2

# Every test under AddressSanitizer + UBSan: unit tests, fuzz corpora, and the
# integration tests with an instrumented module in the stock nginx.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTAILOR_SANITIZE=ON \
	      -DTAILOR_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 2

# libFuzzer under ASan + UBSan; FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	./tests/fuzz/run $(FUZZ_SECONDS)

# Debian packages (debian/): build/libnginx-mod-http-tailor_<version>_amd64.deb
# and build/tailorctl_<version>_amd64.deb, lintian-checked.
deb: deps
	@JOBS=$(JOBS) ./debian/make-deb $(BUILD)

# Installs those packages (apt-get install ./build/*.deb) and runs the
# integration suite against /usr/lib/nginx/modules and /usr/bin/tailorctl.
test-deb: deb
	@./tests/deb/run $(BUILD)

demo: build
	@BUILD=$(abspath $(BUILD)) ./conf/demo/run

demo-stop:
	@./conf/demo/stop

bench: build
	./$(BUILD)/tailor_bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
