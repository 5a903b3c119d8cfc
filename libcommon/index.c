/* index.c: registry.idx, the registry's index by id and by status. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt.h"

static const char magic[8] = "WTIDX01\n";

struct hdr {
	char magic[8];
	uint64_t dev, ino, size, mtime_s, mtime_ns;
	uint64_t nslots, nrecs, status_off, nstatus;
	uint64_t nbad, pad;
};

struct status_ent {
	char name[48];
	uint64_t count, listoff;
};

_Static_assert(sizeof(struct hdr) == WT_IDX_HDR, "index header size");
_Static_assert(sizeof(struct status_ent) == 64, "status entry size");

uint64_t
wt_index_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
generation(const struct stat *st, struct hdr *h)
{
	h->dev = (uint64_t)st->st_dev;
	h->ino = (uint64_t)st->st_ino;
	h->size = (uint64_t)st->st_size;
	h->mtime_s = (uint64_t)st->st_mtim.tv_sec;
	h->mtime_ns = (uint64_t)st->st_mtim.tv_nsec;
}

int
wt_index_open(const struct wt_registry *reg, struct wt_index *ix)
{
	struct hdr h, g;
	struct stat st;
	char *path = wt_registry_file(reg, "idx");
	int fd = -1;

	ix->fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (ix->fd < 0)
		return -1;
	if (pread(ix->fd, &h, sizeof(h), 0) != sizeof(h) ||
	    memcmp(h.magic, magic, sizeof(magic)) != 0 || !h.nslots ||
	    (h.nslots & (h.nslots - 1)))
		goto stale;
	if ((fd = open(reg->path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		goto stale;
	memset(&g, 0, sizeof(g));
	generation(&st, &g);
	if (g.dev != h.dev || g.ino != h.ino || g.size != h.size ||
	    g.mtime_s != h.mtime_s || g.mtime_ns != h.mtime_ns)
		goto stale;
	ix->nslots = h.nslots;
	ix->nrecs = h.nrecs;
	ix->status_off = h.status_off;
	ix->nstatus = h.nstatus;
	ix->nbad = h.nbad;
	return fd;
stale:
	if (fd >= 0)
		close(fd);
	close(ix->fd);
	ix->fd = -1;
	return -1;
}

int
wt_registry_index_valid(const struct wt_registry *reg)
{
	struct wt_index ix;
	int fd;

	if (reg->moai || (fd = wt_index_open(reg, &ix)) < 0)
		return 0;
	close(ix.fd);
	close(fd);
	return 1;
}

int
wt_index_status(struct wt_index *ix, const char *status, uint64_t *count,
		uint64_t *listoff)
{
	struct status_ent e;
	uint64_t i;

	/* The index holds records only: a scan reports the bad lines too. */
	if (strlen(status) >= sizeof(e.name) || ix->nbad)
		return -1;
	for (i = 0; i < ix->nstatus; i++) {
		if (pread(ix->fd, &e, sizeof(e), (off_t)(ix->status_off + i * sizeof(e))) !=
		    sizeof(e))
			return -1;
		if (strncmp(e.name, status, sizeof(e.name)) == 0) {
			*count = e.count;
			*listoff = e.listoff;
			return 0;
		}
	}
	*count = 0;
	*listoff = 0;
	return 0;
}

struct group {
	char name[48];
	uint64_t *offs;
	size_t n, cap;
};

static int
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t k;

	while (n) {
		if ((k = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int
wt_index_write(const struct wt_registry *reg, int regfd)
{
	struct wt_reader *rd = NULL;
	struct wt_rec r = WT_REC_INIT;
	struct group *groups = NULL;
	size_t ngroups = 0, nrec = 0, cap = 0, i, k;
	uint64_t *hashes = NULL, *offs = NULL, *slots = NULL, nslots, pos, nbad = 0;
	struct hdr h;
	struct stat st;
	const char *line;
	char *path = NULL, *tmp = NULL, *id, *status;
	size_t n;
	int toolong, rc, fd = -1, ret = -1;

	if (lseek(regfd, 0, SEEK_SET) < 0 || fstat(regfd, &st) < 0)
		return -1;
	rd = wt_reader_new(regfd, 0);
	while ((rc = wt_reader_line(rd, &line, &n, &toolong)) > 0) {
		if (!toolong && !n)
			continue;
		if (toolong || wt_rec_parse(&r, line, n, NULL) < 0) {
			nbad++;
			continue;
		}
		if (!(id = wt_rec_str(&r, "id")))
			continue;
		if (nrec == cap) {
			cap = cap ? cap * 2 : 1024;
			hashes = wt_xrealloc(hashes, cap * sizeof(*hashes));
			offs = wt_xrealloc(offs, cap * sizeof(*offs));
		}
		hashes[nrec] = wt_index_hash(id, strlen(id));
		offs[nrec] = (uint64_t)wt_reader_offset(rd);
		free(id);
		if ((status = wt_rec_str(&r, "status")) && strlen(status) < 48) {
			for (k = 0; k < ngroups; k++)
				if (strcmp(groups[k].name, status) == 0)
					break;
			if (k == ngroups) {
				groups = wt_xrealloc(groups, ++ngroups * sizeof(*groups));
				memset(&groups[k], 0, sizeof(*groups));
				strcpy(groups[k].name, status);
			}
			if (groups[k].n == groups[k].cap) {
				groups[k].cap = groups[k].cap ? groups[k].cap * 2 : 64;
				groups[k].offs = wt_xrealloc(groups[k].offs,
					groups[k].cap * sizeof(uint64_t));
			}
			groups[k].offs[groups[k].n++] = offs[nrec];
		}
		free(status);
		nrec++;
	}
	if (rc < 0)
		goto out;

	for (nslots = 16; nslots < 2 * nrec; nslots *= 2)
		;
	slots = calloc(nslots * 2, sizeof(uint64_t));
	if (!slots)
		goto out;
	for (i = 0; i < nrec; i++) {
		for (pos = hashes[i] & (nslots - 1); slots[pos * 2 + 1];
		     pos = (pos + 1) & (nslots - 1))
			;
		slots[pos * 2] = hashes[i];
		slots[pos * 2 + 1] = offs[i] + 1;
	}

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, magic, sizeof(magic));
	generation(&st, &h);
	h.nslots = nslots;
	h.nrecs = nrec;
	h.status_off = WT_IDX_HDR + nslots * 16;
	h.nstatus = ngroups;
	h.nbad = nbad;

	path = wt_registry_file(reg, "idx");
	tmp = wt_registry_file(reg, "idx.tmp");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		goto out;
	if (write_all(fd, &h, sizeof(h)) || write_all(fd, slots, nslots * 16))
		goto out;
	pos = h.status_off + ngroups * sizeof(struct status_ent);
	for (k = 0; k < ngroups; k++) {
		struct status_ent e;

		memset(&e, 0, sizeof(e));
		memcpy(e.name, groups[k].name, sizeof(e.name));
		e.count = groups[k].n;
		e.listoff = pos;
		pos += groups[k].n * 8;
		if (write_all(fd, &e, sizeof(e)))
			goto out;
	}
	for (k = 0; k < ngroups; k++)
		if (write_all(fd, groups[k].offs, groups[k].n * 8))
			goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	for (k = 0; k < ngroups; k++)
		free(groups[k].offs);
	free(groups);
	free(hashes);
	free(offs);
	free(slots);
	free(path);
	free(tmp);
	wt_rec_release(&r);
	wt_reader_free(rd);
	return ret;
}
