# sialoscan — build, test, benchmark.
#   make setup   install what a fresh Debian 12 machine needs (idempotent, quiet when done)
#   make         native library + CLI (build/sialoscan) + WASM module (wasm/dist/) + the page (web/dist/)
#   make dist    release archives in dist/ (page zip, CLI tar.gz, wasm package, SHA256SUMS: docs/release.md)
#   make cross-aarch64   the CLI for 64-bit Arm (build/aarch64/sialoscan; make test-cross runs it under qemu-aarch64)
#   make serve   the page on http://127.0.0.1:8080/ (cross-origin isolated: threads)
#   make test    C unit tests under ASan+UBSan, the aarch64 build under qemu, then the Node tests (WASM API, TensorFlow.js oracle)
#   make bench   latency of both networks: native own / XNNPACK, WASM 1/2 threads and peers in Node
#   make bench-chromium   our WASM 1 vs 2 threads in a worker of a cross-origin-isolated page
#   make fuzz    libFuzzer on each parser (DICOM, images, .sialo) for FUZZ_TIME s each (default 300)
SHELL := /bin/bash
CC ?= cc
CXX ?= c++
# the codec libraries' sources (tools/fetch-codecs.sh) and their headers (see "image codec libraries" below)
TP := third_party
OPJ_DIR := $(TP)/openjpeg2/src/lib/openjp2
CODEC_INC := -I$(OPJ_DIR) -Itools/codecs/openjpeg -I$(TP)/charls/include -DCHARLS_STATIC -Itools/codecs \
  -I$(TP)/dcmtk/dcmjpeg/libijg8 -I$(TP)/dcmtk/dcmjpeg/libijg12 -I$(TP)/dcmtk/dcmjpeg/libijg16
# the version, from one place: wasm/package.json (the CLI, the JS API, the page and the release archives show it)
VERSION := $(shell sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' wasm/package.json)
VERSION_FLAG := -DSIALO_VERSION='"$(VERSION)"'
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Isrc -I/usr/include/stb $(VERSION_FLAG) $(CODEC_INC)
HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null)
HDF5_LIBS := $(shell pkg-config --libs hdf5 2>/dev/null)
# Runtime ISA dispatch (x86-64): the program is built for baseline x86-64 (NATIVE_ARCH), every
# src/kernels/*.c but dispatch.c once per ISA of KERNEL_ISAS with its flags, its functions renamed
# name_<isa> (tools/kernel-rename.sh); kernels/dispatch.c picks one table at start (CPUID,
# SIALOSCAN_ISA). Elsewhere (other CPUs) the kernels are built once, for the compiler's default.
# `make NATIVE_ARCH=-march=native DISPATCH=` builds the old way: one ISA, this machine's.
ifneq ($(filter x86_64%,$(shell $(CC) -dumpmachine)),)
DISPATCH ?= 1
NATIVE_ARCH ?= -march=x86-64 -mtune=generic
endif
KERNEL_ISAS := sse2 avx2 avx512
ISA_FLAGS_sse2 :=
ISA_FLAGS_avx2 := -mavx2 -mfma
ISA_FLAGS_avx512 := -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx2 -mfma
DISPATCH_FLAG := $(if $(DISPATCH),-DSIALO_DISPATCH)
CFLAGS_NATIVE := $(CFLAGS_COMMON) -O3 $(NATIVE_ARCH) -ffp-contract=fast -DSIALO_WITH_XNNPACK $(DISPATCH_FLAG) $(HDF5_CFLAGS)
CFLAGS_ASAN := $(CFLAGS_COMMON) -O1 -g $(NATIVE_ARCH) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DSIALO_WITH_XNNPACK $(DISPATCH_FLAG) $(HDF5_CFLAGS)
LIBS := -lXNNPACK -lpthreadpool -lpthread -lm $(HDF5_LIBS) -lstdc++

# src/<layer>/*.c: base kernels ops engine io import train explain (the library), cli (the CLI);
# docs/design.md draws the layers, tools/check-layers.mjs keeps their arrows pointing one way
LAYERS := base kernels ops engine io import train explain
# (wildcards sorted: the link order, hence the binary, the same with any version of make)
ENGINE_SRC := $(foreach l,$(LAYERS),$(sort $(wildcard src/$(l)/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
# the WebAssembly module: the engine and the trainer (file-free: memory in, callbacks out), not the
# Keras importer (HDF5) nor the HTML report
WASM_SRC := $(filter-out src/import/keras.c src/explain/report.c,$(ENGINE_SRC)) wasm/bindings.c
C_TESTS := $(patsubst tests/c/%.c,build/tests/%,$(wildcard tests/c/test_*.c))

# the kernels compiled per ISA (any src/kernels/*.c joins by being there: src/kernels/README.md)
KERNEL_SRC := $(filter-out src/kernels/dispatch.c,$(wildcard src/kernels/*.c))
ifdef DISPATCH
engine_obj = $(patsubst %.c,build/$(1)/%.o,$(filter-out $(KERNEL_SRC),$(ENGINE_SRC))) \
  $(foreach i,$(KERNEL_ISAS),$(patsubst %.c,build/$(1)/%.$(i).o,$(KERNEL_SRC)))
else
engine_obj = $(patsubst %.c,build/$(1)/%.o,$(ENGINE_SRC))
endif
NATIVE_OBJ := $(call engine_obj,native)
ASAN_OBJ := $(call engine_obj,asan)
HEADERS := $(wildcard src/*.h src/*/*.h) src/kernels/kernels.def wasm/package.json

# ---- the image codec libraries of the compressed DICOM syntaxes (src/io/codecs.h): their Debian
# sources, fetched by `make setup` (tools/fetch-codecs.sh) into third_party/, compiled here from the
# same files natively (gcc), for WebAssembly (emcc; once more with -pthread for the threads build)
# and for the fuzzers (clang + ASan), so the CLI, Node and the page run the same decoder code.
# One compiler call and one archive per library and build (emcc starts slowly); their own warnings
# are not ours (-w); no FMA contraction, so float code rounds alike everywhere. Only the decoding
# halves are built (tools/codecs/ijg_decode_only.c names the two functions jcodec.c mentions).
OPJ_SRC := $(addprefix $(OPJ_DIR)/,bio.c cio.c dwt.c event.c function_list.c ht_dec.c image.c invert.c j2k.c jp2.c mct.c mqc.c \
  openjpeg.c opj_clock.c opj_malloc.c pi.c sparse_array.c t1.c t2.c tcd.c tgt.c thread.c)
CHARLS_SRC := $(addprefix $(TP)/charls/src/,charls_jpegls_decoder.cpp jpeg_stream_reader.cpp jpegls.cpp jpegls_error.cpp \
  validate_spiff_header.cpp version.cpp)
IJG_FILES := jaricom.c jcodec.c jcomapi.c jdapimin.c jdapistd.c jdarith.c jdcoefct.c jdcolor.c jddctmgr.c jddiffct.c jdhuff.c \
  jdinput.c jdlhuff.c jdlossls.c jdlossy.c jdmainct.c jdmarker.c jdmaster.c jdmerge.c jdphuff.c jdpostct.c jdpred.c jdsample.c \
  jdscale.c jdshuff.c jerror.c jidctflt.c jidctfst.c jidctint.c jidctred.c jmemmgr.c jmemnobs.c jquant1.c jquant2.c jutils.c
ijg_src = $(addprefix $(TP)/dcmtk/dcmjpeg/libijg$(1)/,$(IJG_FILES))
CODEC_STAMPS := $(TP)/openjpeg2/.sialo-done $(TP)/charls/.sialo-done $(TP)/dcmtk/.sialo-done
CODEC_ABS_INC := $(patsubst -I%,-I$(CURDIR)/%,$(CODEC_INC))
CODEC_CFLAGS := -std=gnu99 -w -DNDEBUG -ffp-contract=off $(CODEC_ABS_INC)
CODEC_CXXFLAGS := -std=c++17 -w -DNDEBUG -ffp-contract=off -DCHARLS_LIBRARY_BUILD $(CODEC_ABS_INC)
CODEC_LIBS := openjp2 charls ijg8 ijg12 ijg16 ijgstubs
codec_libs = $(foreach l,$(CODEC_LIBS),build/codecs/$(1)/lib$(l).a)
CODEC_NATIVE_OBJ := $(call codec_libs,native)
CODEC_WASM_OBJ := $(call codec_libs,wasm)
CODEC_WASM_MT_OBJ := $(call codec_libs,wasm-mt)
CODEC_FUZZ_OBJ := $(call codec_libs,fuzz)
# per build: the C compiler, the C++ compiler, the archiver, the flags
CODEC_CC_native = $(CC) -O2
CODEC_CXX_native = $(CXX) -O2
CODEC_AR_native = ar
CODEC_CC_wasm = $(EMCC) -O3
CODEC_CXX_wasm = $(EMCC) -O3 -fexceptions
CODEC_AR_wasm = emar
CODEC_CC_wasm-mt = $(EMCC) -O3 -pthread
CODEC_CXX_wasm-mt = $(EMCC) -O3 -fexceptions -pthread
CODEC_AR_wasm-mt = emar
CODEC_CC_fuzz = $(FUZZ_CC) -g -O1 -fsanitize=fuzzer-no-link,address
CODEC_CXX_fuzz = $(FUZZ_CXX) -g -O1 -fsanitize=fuzzer-no-link,address
CODEC_AR_fuzz = ar
CODEC_CC_aarch64 = $(CROSS_AARCH64)gcc -O2
CODEC_CXX_aarch64 = $(CROSS_AARCH64)g++ -O2
CODEC_AR_aarch64 = $(CROSS_AARCH64)ar
# the libraries rebuilt when one of our patches to their sources changes (tools/fetch-codecs.sh applies them)
$(foreach b,native wasm wasm-mt fuzz aarch64,build/codecs/$(b)/libcharls.a): tools/codecs/patches/charls-read-high-bits.patch \
  | $(TP)/charls/.sialo-charls-read-high-bits
$(foreach b,native wasm wasm-mt fuzz aarch64,build/codecs/$(b)/libopenjp2.a): tools/codecs/patches/openjpeg-ht-mel-init.patch \
  | $(TP)/openjpeg2/.sialo-openjpeg-ht-mel-init
$(CODEC_STAMPS):
	@echo "the codec sources are missing ($@): run make setup"; exit 1
$(TP)/charls/.sialo-charls-read-high-bits $(TP)/openjpeg2/.sialo-openjpeg-ht-mel-init:
	@echo "a patch of tools/codecs/patches/ is not applied to third_party/ ($@): run make setup"; exit 1
# $(1) build, $(2) library, $(3) sources, $(4) CC or CXX
define codec_lib
build/codecs/$(1)/lib$(2).a: $(3) | $(CODEC_STAMPS)
	@rm -rf build/codecs/$(1)/$(2) && mkdir -p build/codecs/$(1)/$(2)
	@echo "$$(firstword $$(CODEC_$(4)_$(1))) -> $$@ ($(words $(3)) files)"
	@cd build/codecs/$(1)/$(2) && $$(CODEC_$(4)_$(1)) $$(CODEC_$(subst CC,C,$(4))FLAGS) -c $(addprefix $(CURDIR)/,$(3))
	@rm -f $$@ && cd build/codecs/$(1)/$(2) && $$(CODEC_AR_$(1)) qcs ../lib$(2).a $(addsuffix .o,$(sort $(notdir $(basename $(3)))))
endef
$(foreach b,native wasm wasm-mt fuzz aarch64,$(eval $(call codec_lib,$(b),openjp2,$(OPJ_SRC),CC)) \
  $(eval $(call codec_lib,$(b),charls,$(CHARLS_SRC),CXX)) $(eval $(call codec_lib,$(b),ijgstubs,tools/codecs/ijg_decode_only.c,CC)) \
  $(foreach n,8 12 16,$(eval $(call codec_lib,$(b),ijg$(n),$(call ijg_src,$(n)),CC))))

EMCC ?= emcc
EMFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter $(VERSION_FLAG) -O3 -msimd128 -ffp-contract=fast -Isrc -I/usr/include/stb $(CODEC_INC) \
  -sDISABLE_EXCEPTION_CATCHING=0 \
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createSialoscanModule -sALLOW_MEMORY_GROWTH=1 \
  -sINITIAL_MEMORY=64MB -sMAXIMUM_MEMORY=2GB -sENVIRONMENT=web,worker -sFILESYSTEM=0 \
  -sEXPORTED_FUNCTIONS=_malloc,_free -sEXPORTED_RUNTIME_METHODS=cwrap,UTF8ToString,HEAPU8,HEAPF32
export NODE_PATH := /usr/share/nodejs

.PHONY: all native wasm web dist serve page-screenshot setup test check-layers test-c test-isa test-cross cross-aarch64 test-node test-fuzz fuzz bench bench-chromium bench-train bench-train-resume bench-train-profile bench-page clean gradcam-examples
all: native wasm web
native: build/sialoscan build/libsialoscan.a
wasm: wasm/dist/sialoscan-core.mjs wasm/dist/sialoscan-core-single.mjs wasm/dist/sialoscan-standalone.js \
  wasm/dist/sialoscan-mt.js wasm/dist/package.json wasm/dist/sialoscan-core.relaxed.wasm wasm/dist/sialoscan-mt.relaxed.wasm

build/native/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_NATIVE) -c $< -o $@
build/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -c $< -o $@
# one kernel file for one ISA: build/<native|asan>/src/kernels/NAME.<isa>.o
define kernel_isa_rule
build/$(1)/src/kernels/%.$(2).o: src/kernels/%.c $$(HEADERS) tools/kernel-rename.sh
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS_$(3)) $$(ISA_FLAGS_$(2)) -DSIALO_ISA_SUFFIX=_$(2) -c $$< -o $$@.tmp
	bash tools/kernel-rename.sh $(2) src/kernels/kernels.def $$@.tmp $$@
endef
$(foreach i,$(KERNEL_ISAS),$(eval $(call kernel_isa_rule,native,$(i),NATIVE))$(eval $(call kernel_isa_rule,asan,$(i),ASAN))$(eval $(call kernel_isa_rule,dist,$(i),DIST)))

# The release CLI (make dist): built as build/sialoscan is (baseline x86-64, kernels per ISA) but
# without XNNPACK (the reference backend) and HDF5 (Keras import), so that it needs libc and libm
# only; no build paths in it, symbols stripped (docs/release.md)
CFLAGS_DIST := $(CFLAGS_COMMON) -O3 $(NATIVE_ARCH) -ffp-contract=fast $(DISPATCH_FLAG) -DSIALO_NO_HDF5 -ffile-prefix-map=$(CURDIR)/=
build/dist/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_DIST) -c $< -o $@
# (the codec libraries static, CharLS's C++ runtime too: still libc and libm only)
build/dist/sialoscan: $(patsubst %.c,build/dist/%.o,$(CLI_SRC)) $(call engine_obj,dist) $(CODEC_NATIVE_OBJ)
	$(CXX) -O3 -s $^ -o $@ -static-libstdc++ -static-libgcc -lpthread -lm
# dist/: the page (zip), the CLI (tar.gz), the wasm package (npm pack), SHA256SUMS; reproducible
dist: all build/dist/sialoscan
	bash tools/make-dist.sh dist

# ---- other architectures: the engine for 64-bit Arm (aarch64), cross-compiled with Debian's
# gcc-aarch64-linux-gnu and run under qemu-user (make test-cross; docs/testing.md). As the release
# CLI is built, but for aarch64: no XNNPACK, no HDF5; the kernels compiled once, for the compiler's
# default (NEON, the 4-wide tile of SSE2 and SIMD128), no ISA dispatch; the codec libraries too.
CROSS_AARCH64 ?= aarch64-linux-gnu-
QEMU_AARCH64 ?= qemu-aarch64 -L /usr/aarch64-linux-gnu
CFLAGS_AARCH64 := $(CFLAGS_COMMON) -O3 -ffp-contract=fast -DSIALO_NO_HDF5 -ffile-prefix-map=$(CURDIR)/=
AARCH64_OBJ := $(patsubst %.c,build/aarch64/%.o,$(ENGINE_SRC))
CODEC_AARCH64_OBJ := $(call codec_libs,aarch64)
# the op and gradient tests: the kernels and the operators against their naive references and
# finite differences (XNNPACK's parts skip themselves: it is not in this build)
CROSS_TESTS := test_ops test_grad
build/aarch64/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CROSS_AARCH64)gcc $(CFLAGS_AARCH64) -c $< -o $@
build/aarch64/sialoscan: $(patsubst %.c,build/aarch64/%.o,$(CLI_SRC)) $(AARCH64_OBJ) $(CODEC_AARCH64_OBJ)
	$(CROSS_AARCH64)g++ -O3 $^ -o $@ -static-libstdc++ -static-libgcc -lpthread -lm
# (the test files at -O2: at -O3 GCC 12's aarch64 vectoriser fails on test_grad.c, an internal compiler error)
build/aarch64/tests/%: tests/c/%.c tests/c/check.h tests/c/bright_patch_net.h $(AARCH64_OBJ) $(CODEC_AARCH64_OBJ)
	@mkdir -p build/aarch64/tests
	$(CROSS_AARCH64)gcc $(CFLAGS_AARCH64) -O2 -Itests/c $< $(AARCH64_OBJ) $(CODEC_AARCH64_OBJ) -o $@ -lpthread -lm -lstdc++
cross-aarch64: build/aarch64/sialoscan
# make test runs it: the tests under qemu-aarch64, then the CLI against the x86-64 one
# (tests/tools/cross-classify.sh); without the cross compiler or qemu-user it says so and passes
CROSS_FOUND := $(and $(shell command -v $(CROSS_AARCH64)gcc),$(shell command -v $(firstword $(QEMU_AARCH64))))
ifneq ($(CROSS_FOUND),)
test-cross: build/aarch64/sialoscan $(addprefix build/aarch64/tests/,$(CROSS_TESTS)) build/sialoscan
	@set -e; for t in $(CROSS_TESTS); do echo "== $(QEMU_AARCH64) build/aarch64/tests/$$t"; $(QEMU_AARCH64) build/aarch64/tests/$$t; done
	QEMU="$(QEMU_AARCH64)" bash tests/tools/cross-classify.sh build/aarch64/sialoscan build/sialoscan
else
test-cross:
	@echo "test-cross: skipped: $(CROSS_AARCH64)gcc or $(firstword $(QEMU_AARCH64)) is not installed (make setup installs both)"
endif

build/libsialoscan.a: $(NATIVE_OBJ)
	@rm -f $@
	ar rcs $@ $^
build/sialoscan: $(patsubst %.c,build/native/%.o,$(CLI_SRC)) build/libsialoscan.a $(CODEC_NATIVE_OBJ)
	$(CC) $(CFLAGS_NATIVE) $^ -o $@ $(LIBS)
build/sialoscan-asan: $(patsubst %.c,build/asan/%.o,$(CLI_SRC)) $(ASAN_OBJ) $(CODEC_NATIVE_OBJ)
	$(CC) $(CFLAGS_ASAN) $^ -o $@ $(LIBS)
build/tests/%: tests/c/%.c tests/c/check.h tests/c/bright_patch_net.h $(ASAN_OBJ) $(CODEC_NATIVE_OBJ)
	@mkdir -p build/tests
	$(CC) $(CFLAGS_ASAN) -Itests/c $< $(ASAN_OBJ) $(CODEC_NATIVE_OBJ) -o $@ $(LIBS)

wasm/dist/sialoscan-core.mjs: $(WASM_SRC) $(HEADERS) $(CODEC_WASM_OBJ)
	@mkdir -p wasm/dist
	$(EMCC) $(EMFLAGS) $(WASM_SRC) $(CODEC_WASM_OBJ) -o $@
wasm/dist/sialoscan-core-single.mjs: $(WASM_SRC) $(HEADERS) $(CODEC_WASM_OBJ)
	@mkdir -p wasm/dist
	$(EMCC) $(EMFLAGS) -sSINGLE_FILE=1 $(WASM_SRC) $(CODEC_WASM_OBJ) -o $@

# Relaxed SIMD twins of each build (f32x4.relaxed_madd: the GEMM and depthwise kernels fused
# multiply-add, A broadcast from memory: f32_gemm_4x8_relaxedsimd), the same JS glue, picked at
# run time when WebAssembly.validate accepts relaxed SIMD (wasm/sialoscan.mjs; Chromium, Firefox;
# Node 20 with --experimental-wasm-relaxed-simd). LLVM 14 writes the prototype opcode:
# tools/wasm-relaxed.mjs rewrites it to the standard one and checks the interface is unchanged.
build/wasm/relaxed/sialoscan-core.mjs: $(WASM_SRC) $(HEADERS) $(CODEC_WASM_OBJ)
	@mkdir -p build/wasm/relaxed
	$(EMCC) $(EMFLAGS) -mrelaxed-simd $(WASM_SRC) $(CODEC_WASM_OBJ) -o $@
wasm/dist/sialoscan-core.relaxed.wasm: build/wasm/relaxed/sialoscan-core.mjs wasm/dist/sialoscan-core.mjs tools/wasm-relaxed.mjs
	node tools/wasm-relaxed.mjs --same-interface wasm/dist/sialoscan-core.wasm build/wasm/relaxed/sialoscan-core.wasm $@
build/wasm/relaxed/sialoscan-mt.js: $(WASM_SRC) $(HEADERS) $(CODEC_WASM_MT_OBJ)
	@mkdir -p build/wasm/relaxed
	$(EMCC) $(EMFLAGS_MT) -mrelaxed-simd $(WASM_SRC) $(CODEC_WASM_MT_OBJ) -o $@
wasm/dist/sialoscan-mt.relaxed.wasm: build/wasm/relaxed/sialoscan-mt.js build/wasm/sialoscan-mt.js tools/wasm-relaxed.mjs
	@mkdir -p wasm/dist
	node tools/wasm-relaxed.mjs --same-interface build/wasm/sialoscan-mt.wasm build/wasm/relaxed/sialoscan-mt.wasm $@

# a classic script (no ES module, wasm embedded) for pages opened from disk
EMFLAGS_CLASSIC := $(filter-out -sEXPORT_ES6=1,$(EMFLAGS)) -sSINGLE_FILE=1
build/wasm/sialoscan-core-classic.js: $(WASM_SRC) $(HEADERS) $(CODEC_WASM_OBJ)
	@mkdir -p build/wasm
	$(EMCC) $(EMFLAGS_CLASSIC) $(WASM_SRC) $(CODEC_WASM_OBJ) -o $@
wasm/dist/sialoscan-standalone.js: build/wasm/sialoscan-core-classic.js wasm/sialoscan.mjs tools/make-standalone.mjs \
  wasm/dist/sialoscan-core.relaxed.wasm
	@mkdir -p wasm/dist
	node tools/make-standalone.mjs single $< wasm/sialoscan.mjs $@ wasm/dist/sialoscan-core.relaxed.wasm

# the pthreads build (a classic script, for a worker of a cross-origin-isolated page, and for Node):
# Emscripten's pool of Web Workers is started once, before the model loads, as large as the
# threads asked for (createSialoscan({ threads }) -> Module.sialoPoolSize); an exhausted pool makes
# pthread_create fail (STRICT=2), never deadlock. Memory: growth stays on (the shipped MobileNetV2
# with Grad-CAM runs in the initial 64 MB, a ResNet50V2 at 224 px grows it to 341 MB; a fixed size
# would reserve the worst case for every page, and cap the models that load):
# under pthreads Emscripten's JS glue then re-checks the heap view on each access, a cost in
# the glue only (a few calls per image), not in the wasm code — hence -Wno-pthreads-mem-growth.
comma := ,
EMFLAGS_MT := $(filter-out -sEXPORT_ES6=1 -sENVIRONMENT=web$(comma)worker,$(EMFLAGS)) -sENVIRONMENT=web,worker,node \
  -pthread -sPTHREAD_POOL_SIZE=Module.sialoPoolSize -sPTHREAD_POOL_SIZE_STRICT=2 -Wno-pthreads-mem-growth
build/wasm/sialoscan-mt.js: $(WASM_SRC) $(HEADERS) $(CODEC_WASM_MT_OBJ)
	@mkdir -p build/wasm
	$(EMCC) $(EMFLAGS_MT) $(WASM_SRC) $(CODEC_WASM_MT_OBJ) -o $@
wasm/dist/sialoscan-mt.js: build/wasm/sialoscan-mt.js wasm/sialoscan.mjs tools/make-standalone.mjs
	@mkdir -p wasm/dist
	cp build/wasm/sialoscan-mt.wasm build/wasm/sialoscan-mt.worker.js wasm/dist/
	node tools/make-standalone.mjs mt $< wasm/sialoscan.mjs $@
# Node reads dist/*.js as CommonJS (the Emscripten classic scripts), the package being "type": "module"
wasm/dist/package.json:
	@mkdir -p wasm/dist
	echo '{ "type": "commonjs" }' > $@

# the clinician's page: web/ -> web/dist/ (works opened from disk and served)
WEB_SRC := $(wildcard web/*.js web/*.html web/*.css web/*.webmanifest)
web: web/dist/index.html
web/dist/index.html: $(WEB_SRC) tools/make-web.mjs tools/make-icons.mjs wasm/package.json models/sialoscan-busi.sialo models/mobilenetv2-imagenet.sialo wasm/dist/sialoscan-standalone.js wasm/dist/sialoscan-mt.js \
  wasm/dist/sialoscan-mt.relaxed.wasm
	node tools/make-web.mjs
serve: web
	node tools/serve.mjs web/dist --port $${PORT:-8080}
# the README's picture of the page (synthetic frames, headless Chromium)
page-screenshot: web
	node tools/page-screenshot.mjs docs/page.png

setup:
	@bash tools/setup.sh

# the Node tests (browsers, timings) run after the sanitizer, ISA and fuzz smoke tests, not beside them
test:
	$(MAKE) check-layers test-c test-isa test-fuzz test-cross
	$(MAKE) test-node
# the include graph and the calls between object files point down the layers, no circles
check-layers: native
	node tools/check-layers.mjs build/native
test-c: $(C_TESTS) build/sialoscan-asan
	@set -e; for t in $(C_TESTS); do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t; done
# the op tests (sanitizers on) once more at every lower ISA level this CPU has, through
# SIALOSCAN_ISA (test-c ran them at the best); a level the CPU lacks is skipped with a sentence
test-isa: build/tests/test_ops
	@set -e; for i in $(KERNEL_ISAS); do echo "== SIALOSCAN_ISA=$$i build/tests/test_ops"; \
	  SIALOSCAN_ISA=$$i ASAN_OPTIONS=detect_leaks=1 build/tests/test_ops; done
test-node: all build/sialoscan-asan build/dist/sialoscan
	node --test --test-concurrency=1 tests/node/

# the Grad-CAM figures of the docs, from synthetic frames (tools/gradcam_examples.c)
build/gradcam-examples: tools/gradcam_examples.c tests/c/bright_patch_net.h build/libsialoscan.a $(CODEC_NATIVE_OBJ)
	$(CC) $(CFLAGS_NATIVE) -Itests/c $< build/libsialoscan.a $(CODEC_NATIVE_OBJ) -o $@ $(LIBS)
gradcam-examples: build/gradcam-examples
	build/gradcam-examples docs

# ---- fuzzing (clang + libFuzzer): one target per parser we own, seeds generated here
#   dicom: src/io/dicom.c (seeds: tests/tools/make_dicom.py's files)
#   image: decode + preprocess, every format (seeds: tests/fixtures, the generator's PNG / BMP / JPEG / DICOM)
#   model: the .sialo loader (seeds: `sialoscan init` models and a `sialoscan ensemble` of two; the harness fixes the header's size and CRC)
#   tflite: the TensorFlow Lite importer (seeds: the synthetic models of tests/c/test_import_tflite.c)
FUZZ_CC ?= clang
FUZZ_CXX ?= clang++
FUZZ_TIME ?= 300
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc -I/usr/include/stb $(CODEC_INC)
FUZZ_TARGETS := dicom image model tflite j2k jls ljpeg
FUZZ_READER_SRC := src/io/decode.c src/io/raster.c src/io/dicom.c src/io/preprocess.c src/io/image_check.c src/io/image_errors.c src/io/stb_impl.c src/base/error.c src/base/crc32.c src/base/fp16.c \
  src/io/codecs.c $(wildcard src/io/codec_*.c)
FUZZ_ENGINE_SRC := $(filter-out wasm/bindings.c src/train/%.c,$(WASM_SRC))
FUZZ_RUN := -timeout=10 -rss_limit_mb=2048
PYTHON ?= /usr/bin/python3
build/fuzz/dicom_fuzz: fuzz/dicom_fuzz.c $(FUZZ_READER_SRC) $(HEADERS) $(CODEC_FUZZ_OBJ)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_READER_SRC) $(CODEC_FUZZ_OBJ) -o $@ -lm -lstdc++
build/fuzz/image_fuzz: fuzz/image_fuzz.c $(FUZZ_READER_SRC) $(HEADERS) $(CODEC_FUZZ_OBJ)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_READER_SRC) $(CODEC_FUZZ_OBJ) -o $@ -lm -lstdc++
build/fuzz/model_fuzz: fuzz/model_fuzz.c $(FUZZ_ENGINE_SRC) $(HEADERS) $(CODEC_FUZZ_OBJ)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_ENGINE_SRC) $(CODEC_FUZZ_OBJ) -o $@ -lm -lpthread -lstdc++
build/fuzz/tflite_fuzz: fuzz/tflite_fuzz.c $(FUZZ_ENGINE_SRC) $(HEADERS) $(CODEC_FUZZ_OBJ)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_ENGINE_SRC) $(CODEC_FUZZ_OBJ) -o $@ -lm -lpthread -lstdc++
# the codec targets (fuzz/codec_fuzz.h): one compressed frame into its library; seeds: the frames of
# tests/tools/make_dicom_codecs.py's files (dcmcjpls, dcmcjpeg, opj_compress, Pillow, ojph_compress)
build/fuzz/j2k_fuzz build/fuzz/jls_fuzz build/fuzz/ljpeg_fuzz: build/fuzz/%_fuzz: fuzz/%_fuzz.c fuzz/codec_fuzz.h $(FUZZ_READER_SRC) $(HEADERS) $(CODEC_FUZZ_OBJ)
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_READER_SRC) $(CODEC_FUZZ_OBJ) -o $@ -lm -lstdc++
build/fuzz/gen-codecs/.done: tests/tools/make_dicom_codecs.py tests/tools/make_dicom.py
	@rm -rf build/fuzz/gen-codecs build/fuzz/seeds-j2k build/fuzz/seeds-jls build/fuzz/seeds-ljpeg
	$(PYTHON) tests/tools/make_dicom_codecs.py build/fuzz/gen-codecs
	$(PYTHON) tests/tools/make_dicom_codecs.py seeds build/fuzz/gen-codecs build/fuzz/codec-seeds
	for t in j2k jls ljpeg; do mv build/fuzz/codec-seeds/$$t build/fuzz/seeds-$$t; touch build/fuzz/seeds-$$t/.done; done
	@touch $@
build/fuzz/seeds-j2k/.done build/fuzz/seeds-jls/.done build/fuzz/seeds-ljpeg/.done: build/fuzz/gen-codecs/.done
build/fuzz/seeds-tflite/.done: build/tests/test_import_tflite
	@rm -rf build/fuzz/seeds-tflite && mkdir -p build/fuzz/seeds-tflite
	build/tests/test_import_tflite --seeds build/fuzz/seeds-tflite
	@touch $@
build/fuzz/seeds-dicom/.done: tests/tools/make_dicom.py
	@rm -rf build/fuzz/seeds-dicom build/fuzz/gen-dicom && mkdir -p build/fuzz/seeds-dicom
	$(PYTHON) tests/tools/make_dicom.py build/fuzz/gen-dicom
	cp build/fuzz/gen-dicom/*.dcm build/fuzz/seeds-dicom/
	@touch $@
build/fuzz/seeds-image/.done: build/fuzz/seeds-dicom/.done $(wildcard tests/fixtures/*)
	@rm -rf build/fuzz/seeds-image && mkdir -p build/fuzz/seeds-image
	cp tests/fixtures/* build/fuzz/gen-dicom/*.bmp build/fuzz/gen-dicom/*.jpg build/fuzz/gen-dicom/rgb-*.png \
	  build/fuzz/gen-dicom/mono*.png build/fuzz/gen-dicom/mono2-8-explicit.dcm build/fuzz/gen-dicom/jpeg-rgb-tint.dcm build/fuzz/seeds-image/
	@touch $@
build/fuzz/seeds-model/.done: build/sialoscan
	@rm -rf build/fuzz/seeds-model && mkdir -p build/fuzz/seeds-model
	build/sialoscan init --arch smallcnn --input 32 --seed 1 build/fuzz/seeds-model/small.sialo >/dev/null
	build/sialoscan init --arch smallcnn --input 32 --seed 2 --fp16 build/fuzz/seeds-model/small-fp16.sialo >/dev/null
	build/sialoscan init --arch smallcnn --input 32 --seed 3 --head none build/fuzz/seeds-model/backbone.sialo >/dev/null
	build/sialoscan ensemble build/fuzz/seeds-model/small.sialo build/fuzz/seeds-model/small-fp16.sialo --fp16 \
	  --out build/fuzz/seeds-model/ensemble.sialo >/dev/null
	@touch $@
FUZZ_DEPS := $(foreach t,$(FUZZ_TARGETS),build/fuzz/$(t)_fuzz build/fuzz/seeds-$(t)/.done)
fuzz: $(FUZZ_DEPS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t build/fuzz/crashes; echo "== $$t: $(FUZZ_TIME) s"; \
	  dict=""; [ -f fuzz/$$t.dict ] && dict="-dict=fuzz/$$t.dict"; \
	  build/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_TIME) $(FUZZ_RUN) $$dict -artifact_prefix=build/fuzz/crashes/$$t- \
	    -print_final_stats=1 build/fuzz/corpus-$$t build/fuzz/seeds-$$t; done
# a short run of each in every `make test` (a fixed seed: the same inputs each time); fuzz/regress/T:
# inputs that once failed target T, run each time
test-fuzz: $(FUZZ_DEPS)
	@set -eo pipefail; for t in "dicom 10000" "image 2000" "model 100" "tflite 2000" "j2k 1000" "jls 2000" "ljpeg 2000"; do set -- $$t; \
	  echo "== build/fuzz/$$1_fuzz (smoke run, $$2 inputs)"; \
	  dict=""; [ -f fuzz/$$1.dict ] && dict="-dict=fuzz/$$1.dict"; \
	  regress=""; [ -d fuzz/regress/$$1 ] && regress=fuzz/regress/$$1; \
	  build/fuzz/$$1_fuzz -runs=$$2 -seed=1 $(FUZZ_RUN) $$dict -artifact_prefix=build/fuzz/$$1- build/fuzz/seeds-$$1 $$regress 2>&1 | tail -1; done

bench: all build/march-native/sialoscan
	node bench/run.mjs
# the CLI built the old way, for the benchmark: every file for this machine's ISA, no dispatch
build/march-native/sialoscan: $(ENGINE_SRC) $(CLI_SRC) $(HEADERS) $(CODEC_NATIVE_OBJ)
	@mkdir -p build/march-native
	$(CC) $(CFLAGS_COMMON) -O3 -march=native -ffp-contract=fast -DSIALO_WITH_XNNPACK $(HDF5_CFLAGS) $(ENGINE_SRC) $(CLI_SRC) $(CODEC_NATIVE_OBJ) -o $@ $(LIBS)
# our WASM in the page's arena: a worker of a COOP/COEP page in headless Chromium, 1 vs 2 threads
bench-chromium: all
	node bench/chromium.mjs
# training throughput: MobileNetV2 224, batch 16, top 11 blocks unfrozen; native CLI vs WASM (Node, Chromium), 1 and 2 threads
bench-train: all
	node bench/train.mjs
# what a reload costs a training run (the epoch in progress + a restart), in epochs; same model bytes
bench-train-resume: all
	node bench/train-resume.mjs --frames 128 --epochs 3 --stop-epoch 2
# where a training step spends its time, per layer kind, forward vs backward GFLOP/s: native vs WASM (Node), 1 and 2 threads
TRAIN_STEP_SRC := $(filter-out wasm/bindings.c,$(WASM_SRC))
build/train-step: bench/train_step.c build/libsialoscan.a $(CODEC_NATIVE_OBJ)
	$(CC) $(CFLAGS_NATIVE) $^ -o $@ $(LIBS)
build/wasm-train/train-step.js: bench/train_step.c $(TRAIN_STEP_SRC) $(HEADERS) $(CODEC_WASM_MT_OBJ)
	@mkdir -p build/wasm-train && echo '{ "type": "commonjs" }' > build/wasm-train/package.json
	$(EMCC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -O3 -msimd128 -ffp-contract=fast -Isrc -I/usr/include/stb $(CODEC_INC) \
	  -pthread -sPTHREAD_POOL_SIZE=2 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=256MB -sMAXIMUM_MEMORY=2GB -Wno-pthreads-mem-growth \
	  -sENVIRONMENT=node,worker -sNODERAWFS=1 -sEXIT_RUNTIME=1 -sSINGLE_FILE=1 $< $(TRAIN_STEP_SRC) $(CODEC_WASM_MT_OBJ) -o $@
bench-train-profile: build/train-step build/wasm-train/train-step.js
	node bench/train-profile.mjs
# the page as a clinician meets it: cold start to first result, per-frame time; from disk and served
bench-page: all
	node bench/page.mjs

clean:
	rm -rf build wasm/dist web/dist dist
