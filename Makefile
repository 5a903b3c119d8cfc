# wt: small programs for many git worktrees.
VERSION = 0.1
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config

override CFLAGS += -std=c17 -Wall -Wextra -pthread -MMD -MP
override CPPFLAGS += -D_GNU_SOURCE -Ilibcommon
override LDFLAGS += -pthread -Wl,--as-needed

# SANITIZE=1 builds the same tree with AddressSanitizer and UBSan in build-san/.
ifdef SANITIZE
B = build-san
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
B = build
endif

LIBS_GIT := $(shell $(PKG_CONFIG) --libs libgit2 2>/dev/null || echo -lgit2)
LIBS_ARCHIVE := $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null || echo -larchive)
LIBS_Z := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
override CPPFLAGS += $(shell $(PKG_CONFIG) --cflags libgit2 libarchive zlib 2>/dev/null)

# Every program links every library; --as-needed drops the ones it does not use.
LDLIBS = $(LIBS_GIT) $(LIBS_ARCHIVE) $(LIBS_Z) -lm

PROGS := $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
BINS := $(addprefix $(B)/bin/,$(PROGS))
LIBSRC := $(wildcard libcommon/*.c)
LIBOBJ := $(patsubst libcommon/%.c,$(B)/lib/%.o,$(LIBSRC))
UNITS := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/*.c))
MAN1 := $(wildcard man/*.1)
MAN5 := $(wildcard man/*.5)
MAN7 := $(wildcard man/*.7)

all: $(BINS) $(UNITS)

$(B)/lib/%.o: libcommon/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The version comes from here only: --version of every program prints it.
$(B)/lib/opt.o: override CPPFLAGS += -DWT_VERSION='"$(VERSION)"'
$(B)/lib/opt.o: Makefile

$(B)/libcommon.a: $(LIBOBJ)
	$(AR) rcs $@ $^

$(B)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BINS): $(B)/bin/%: $(B)/cmd/%.o $(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(B)/libcommon.a $(LDLIBS)

$(B)/unit/%: tests/unit/%.c $(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libcommon.a $(LDLIBS)

deps:
	@sh scripts/deps

# libgit2 leaks pcre2 match data it caches per thread; nothing of ours is suppressed.
check: deps all
	WT_BUILD=$(CURDIR)/$(B) LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 prove -j2 $(PROVEFLAGS) tests/

demo: deps all
	WT_BUILD=$(CURDIR)/$(B) sh scripts/demo

bench: all
	WT_BUILD=$(CURDIR)/$(B) sh scripts/bench/run

lint:
	mandoc -Tlint -Wwarning man/*

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5)
	$(if $(MAN7),install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MAN7)))

clean:
	rm -rf build build-san

.PHONY: all deps check demo bench lint install uninstall clean
.SECONDARY:

-include $(wildcard build/*/*.d build-san/*/*.d)
