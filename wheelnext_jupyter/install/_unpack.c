/* Unpack the members of one mapped wheel without returning to Python per member.
 *
 * `unpack(archive, jobs, link_dir[, whole_limit[, base_dir]])` takes the wheel's bytes (any
 * buffer, normally the mmap `staging` already holds) and a sequence of jobs, one per member:
 *
 *     (local header offset, compressed size, method, size, path, executable, cache number)
 *
 * with the offsets and sizes from the zip's central directory (method 0 = stored, 8 =
 * deflated), `path` the staged file to create (bytes, relative to `base_dir` when it is given;
 * it must not exist) and `cache number` the hard link to make as
 * `link_dir/<number / 256>/<number>` (-1 = none). For every member it inflates the data, hashes
 * it with SHA-256, writes it and closes the file, all with the GIL released, so two threads
 * unpack two wheels on two cores and the interpreter is free meanwhile.
 * Members are hashed two at a time (`_sha256.h`): where the processor has the SHA extensions,
 * that takes about two thirds of the time of hashing them one after the other.
 *
 * Returns `(results, linked)`: one `(urlsafe base64 sha256 without padding, size)` per job,
 * and whether every hard link into `link_dir` was made (a cache is optional, so a refused link
 * only stops linking). Data that cannot be unpacked raises `UnpackError(index, problem)`;
 * a failing system call raises `OSError` naming the file. Files written before an error are
 * left for the caller, which removes its staging directory.
 *
 * `inflate_small(data, size)` and `crc32_small(data)` read a small member (a dist-info file)
 * whole, keeping the GIL: letting it go and waiting to have it back would take longer.
 *
 * `link(source_dir, jobs, created_ns[, base_dir])` stages a wheel from the unpacked-wheel cache
 * instead: per job `(cache number, size, path)` it hard-links `source_dir/<number / 256>/<number>`
 * to `path` (relative to `base_dir` when given; its parents made), after checking that the
 * cached file still has its size and was not modified after `created_ns`. A file that fails the
 * check raises `UnpackError(index, problem)`.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>
#ifdef HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include "_sha256.h"

/* Output block: small enough to stay in cache, large enough for few write() calls. */
#define BLOCK (256 * 1024)
/* Deflated members up to this size are inflated whole (libdeflate, about twice as fast as
 * zlib); larger ones stream through zlib in blocks so memory stays bounded. `unpack` takes
 * another limit as its fourth argument (tests use 0 to take the streaming path). */
#define WHOLE_LIMIT (64 * 1024 * 1024)
#define LOCAL_HEADER_SIZE 30
/* Members hashed in memory are written in pieces of this size, each right after its hash. */
#define PIECE_BYTES ((size_t)256 * 1024)
/* Cache entries keep 256 members per subdirectory (see unpacked_cache.py). */
#define PER_DIRECTORY 256

static PyObject *UnpackError;
static PyObject *BadArchive;

typedef struct {
    unsigned long long header_offset;
    unsigned long long compress_size;
    unsigned long long file_size;
    int method;
    int executable;
    long number;
    const char *path;
} job_t;

typedef struct {
    unsigned char digest[32];
    unsigned long long size;
} result_t;

typedef struct {
    Py_ssize_t index;    /* the failing job */
    int os_errno;        /* non-zero: a system call failed on `os_path` */
    const char *os_path;
    const char *os_base; /* the directory `os_path` is relative to, or NULL */
    char problem[160];   /* otherwise: what is wrong with the member's data */
} failure_t;

/* Where a call's paths are: jobs' paths relative to `fd` (a directory opened once per call, or
 * AT_FDCWD for paths as given), cache links relative to `link_fd` (-1: none). Each system call
 * then walks the few components under the directory, not the whole path from the root (in a
 * cold install of a data-science stack, creating and linking the files took about a quarter
 * less processor time). */
typedef struct {
    int fd;
    int link_fd;
} places_t;

static uint16_t read_u16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static int write_all(int fd, const unsigned char *data, size_t length) {
    while (length > 0) {
        size_t chunk = length > (1u << 30) ? (1u << 30) : length;
        ssize_t done = write(fd, data, chunk);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += done;
        length -= (size_t)done;
    }
    return 0;
}

/* mkdir -p for the parent directories of `path` (relative to `dir`). */
static int make_parents(int dir, const char *path) {
    char buffer[PATH_MAX];
    size_t length = strlen(path);
    if (length >= sizeof(buffer)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buffer, path, length + 1);
    char *slash = strrchr(buffer, '/');
    if (slash == NULL || slash == buffer)
        return 0;
    *slash = '\0';
    if (mkdirat(dir, buffer, 0777) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -1;
    if (make_parents(dir, buffer) < 0)
        return -1;
    if (mkdirat(dir, buffer, 0777) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

static int create_file(int dir, const char *path) {
    int fd = openat(dir, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == ENOENT) {
        if (make_parents(dir, path) < 0)
            return -1;
        fd = openat(dir, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    }
    return fd;
}

/* The directory `path` (mkdir -p), opened to be walked from; -1 when it cannot be. */
static int open_directory(const char *path, int make) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && make) {
        size_t length = strlen(path);
        char buffer[PATH_MAX];
        if (length + 3 > sizeof(buffer)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        /* The parents of `<path>/x` are `path` and its own. */
        memcpy(buffer, path, length);
        memcpy(buffer + length, "/x", 3);
        if (make_parents(AT_FDCWD, buffer) < 0)
            return -1;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    return fd;
}

static void set_problem(failure_t *failure, const char *problem) {
    snprintf(failure->problem, sizeof(failure->problem), "%s", problem);
}

static void set_os_error(failure_t *failure, const char *path) {
    failure->os_errno = errno ? errno : EIO;
    failure->os_path = path;
}

typedef struct {
    z_stream inflater;
    EVP_MD_CTX *hasher;
    unsigned char *block;
    unsigned long long whole_limit;
#ifdef HAVE_LIBDEFLATE
    struct libdeflate_decompressor *whole;
#endif
} tools_t;

/* A member whose bytes are all in memory (stored in the archive, or inflated whole), being
 * hashed alongside another: its file is written a piece at a time, each piece right after it
 * is hashed (copied into the page cache while the processor still has it: from a member
 * inflated whole, megabytes back, the copy took up to four times as long on a disk). */
typedef struct {
    Py_ssize_t job; /* -1: the lane is free */
    int fd;
    const unsigned char *data;
    size_t size;
    size_t hashed;
    size_t written; /* bytes already written to the file (each piece right after its hash) */
    lane_hash_t hash;
    unsigned char *buffer; /* the lane's own, for members inflated whole */
    size_t capacity;
} lane_t;

/* Where a member's data starts in the archive, after checking its local header; NULL (with
 * `failure` set) when the header or the data is not there. */
static const unsigned char *member_data(const unsigned char *archive, size_t archive_size,
                                        const job_t *job, failure_t *failure) {
    if (archive_size < LOCAL_HEADER_SIZE || job->header_offset > archive_size - LOCAL_HEADER_SIZE
        || memcmp(archive + job->header_offset, "PK\x03\x04", 4) != 0) {
        set_problem(failure, "its local header is missing");
        return NULL;
    }
    const unsigned char *header = archive + job->header_offset;
    unsigned long long start =
        job->header_offset + LOCAL_HEADER_SIZE + read_u16(header + 26) + read_u16(header + 28);
    if (start > archive_size || job->compress_size > archive_size - start) {
        set_problem(failure, "it is truncated");
        return NULL;
    }
    return archive + start;
}

/* Lane buffers of this size or more are mapped on their own, aligned to it, in huge pages. */
#define HUGE_PAGE ((size_t)2 << 20)

static void buffer_free(unsigned char *buffer, size_t capacity) {
    if (buffer == NULL)
        return;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (capacity >= HUGE_PAGE) {
        munmap(buffer, capacity);
        return;
    }
#endif
    free(buffer);
}

/* Lane buffers kept from one call (one wheel, or part of one) to the next. A new buffer's
 * pages are zeroed by the system as they are first written; kept, a buffer is written again
 * without that (in a cold install of a data-science stack on a memory file system, that
 * zeroing was about 0.6 % of the processor time, and more on a disk). At most POOL_SLOTS
 * buffers and POOL_BYTES in all are kept; `release_buffers` frees them when an install is
 * done. Only builds with libdeflate inflate members whole, into these buffers. */
#define POOL_SLOTS 4
#define POOL_BYTES ((size_t)256 << 20)

#ifdef HAVE_LIBDEFLATE
/* A lane buffer of at least `*capacity` bytes (raised to what was mapped); NULL when out of
 * memory. Every page of a new buffer faults when it is first written: in 4 KiB pages that is
 * about 20,000 faults in a cold install of a data-science stack, a tenth of its system time;
 * huge pages (where the system grants them) make it a few dozen. */
static unsigned char *buffer_alloc(size_t *capacity) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (*capacity >= HUGE_PAGE) {
        size_t length = (*capacity + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        /* Mapped one huge page larger, then trimmed to an aligned start. */
        unsigned char *raw = mmap(NULL, length + HUGE_PAGE, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED)
            return NULL;
        uintptr_t start = ((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
        if (start > (uintptr_t)raw)
            munmap(raw, start - (uintptr_t)raw);
        size_t tail = (size_t)((uintptr_t)raw + HUGE_PAGE - start);
        if (tail > 0)
            munmap((unsigned char *)start + length, tail);
        /* Advice only: without huge pages the buffer works the same. */
        madvise((void *)start, length, MADV_HUGEPAGE);
        *capacity = length;
        return (unsigned char *)start;
    }
#endif
    return malloc(*capacity);
}

typedef struct {
    unsigned char *buffer;
    size_t capacity;
} pooled_t;

static pooled_t pool[POOL_SLOTS];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* Give `lane` a kept buffer: the largest, or with `at_least` > 0 the smallest that holds
 * that many bytes. The lane has none. */
static void pool_take(lane_t *lane, size_t at_least) {
    pthread_mutex_lock(&pool_lock);
    int chosen = -1;
    for (int i = 0; i < POOL_SLOTS; i++) {
        if (pool[i].buffer == NULL || pool[i].capacity < at_least)
            continue;
        if (chosen < 0 || (at_least == 0 ? pool[i].capacity > pool[chosen].capacity
                                         : pool[i].capacity < pool[chosen].capacity))
            chosen = i;
    }
    if (chosen >= 0) {
        lane->buffer = pool[chosen].buffer;
        lane->capacity = pool[chosen].capacity;
        pool[chosen].buffer = NULL;
        pool[chosen].capacity = 0;
    }
    pthread_mutex_unlock(&pool_lock);
}

/* Keep `buffer` for a later call, in place of smaller ones if the pool is full; what is not
 * kept is freed. */
static void pool_give(unsigned char *buffer, size_t capacity) {
    if (buffer == NULL)
        return;
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        size_t kept = 0;
        int empty = -1, smallest = -1;
        for (int i = 0; i < POOL_SLOTS; i++) {
            if (pool[i].buffer == NULL) {
                empty = i;
                continue;
            }
            kept += pool[i].capacity;
            if (smallest < 0 || pool[i].capacity < pool[smallest].capacity)
                smallest = i;
        }
        if (empty >= 0 && kept + capacity <= POOL_BYTES) {
            pool[empty].buffer = buffer;
            pool[empty].capacity = capacity;
            buffer = NULL;
            break;
        }
        /* Full: make room by dropping the smallest kept buffer if it is smaller than this. */
        if (smallest < 0 || pool[smallest].capacity >= capacity || capacity > POOL_BYTES)
            break;
        buffer_free(pool[smallest].buffer, pool[smallest].capacity);
        pool[smallest].buffer = NULL;
        pool[smallest].capacity = 0;
    }
    pthread_mutex_unlock(&pool_lock);
    buffer_free(buffer, capacity);
}

/* Inflate a member of known size in one call into the lane's buffer; 0 on success, 1 = use
 * zlib instead. */
static int inflate_whole(tools_t *tools, lane_t *lane, const unsigned char *data,
                         const job_t *job, failure_t *failure) {
    if (job->file_size > tools->whole_limit || job->compress_size > tools->whole_limit)
        return 1;
    size_t size = (size_t)job->file_size;
    if (size > lane->capacity || lane->buffer == NULL) {
        /* At least doubled: the lane that takes the smallest members first grows its buffer a
         * few times, not once per member. Its content is not kept. */
        size_t capacity = size < BLOCK ? BLOCK : size;
        if (capacity < 2 * lane->capacity)
            capacity = 2 * lane->capacity;
        pool_give(lane->buffer, lane->capacity);
        lane->buffer = NULL;
        lane->capacity = 0;
        pool_take(lane, size);
        if (lane->buffer == NULL) {
            lane->buffer = buffer_alloc(&capacity);
            lane->capacity = lane->buffer != NULL ? capacity : 0;
        }
        if (lane->buffer == NULL)
            return 1;
    }
    size_t used = 0;
    enum libdeflate_result status = libdeflate_deflate_decompress_ex(
        tools->whole, data, (size_t)job->compress_size, lane->buffer, size, &used, NULL);
    if (status == LIBDEFLATE_SHORT_OUTPUT) {
        set_problem(failure, "it inflates to less than its recorded size");
        return -1;
    }
    if (status == LIBDEFLATE_INSUFFICIENT_SPACE) {
        set_problem(failure, "it inflates beyond its recorded size");
        return -1;
    }
    if (status != LIBDEFLATE_SUCCESS) {
        set_problem(failure, "invalid deflate data");
        return -1;
    }
    lane->data = lane->buffer;
    lane->size = size;
    return 0;
}
#endif

/* Inflate a deflated member through zlib in blocks into `fd`, hashing it; 0 on success. */
static int stream_member(tools_t *tools, const unsigned char *data, const job_t *job, int fd,
                         result_t *result, failure_t *failure) {
    z_stream *inflater = &tools->inflater;
    EVP_MD_CTX *hasher = tools->hasher;
    unsigned char *block = tools->block;
    if (EVP_DigestInit_ex(hasher, EVP_sha256(), NULL) != 1) {
        set_problem(failure, "SHA-256 is not available");
        return -1;
    }
    if (inflateReset(inflater) != Z_OK) {
        set_problem(failure, "the inflater cannot be reset");
        return -1;
    }
    unsigned long long remaining = job->compress_size;
    unsigned long long total = 0;
    inflater->next_in = (unsigned char *)data;
    inflater->avail_in = 0;
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        if (inflater->avail_in == 0 && remaining > 0) {
            unsigned int piece = remaining > (1u << 30) ? (1u << 30) : (unsigned int)remaining;
            inflater->avail_in = piece;
            remaining -= piece;
        }
        inflater->next_out = block;
        inflater->avail_out = BLOCK;
        status = inflate(inflater, Z_NO_FLUSH);
        if (status != Z_OK && status != Z_STREAM_END) {
            if (status == Z_BUF_ERROR)
                set_problem(failure, "it is truncated");
            else
                snprintf(failure->problem, sizeof(failure->problem), "invalid deflate data: %s",
                         inflater->msg ? inflater->msg : "unknown error");
            return -1;
        }
        size_t produced = BLOCK - inflater->avail_out;
        total += produced;
        if (total > job->file_size) {
            set_problem(failure, "it inflates beyond its recorded size");
            return -1;
        }
        if (produced > 0) {
            EVP_DigestUpdate(hasher, block, produced);
            if (write_all(fd, block, produced) < 0) {
                set_os_error(failure, job->path);
                return -1;
            }
        }
    }
    if (total != job->file_size) {
        set_problem(failure, "it inflates to less than its recorded size");
        return -1;
    }
    result->size = total;
    unsigned int length = 0;
    EVP_DigestFinal_ex(hasher, result->digest, &length);
    return 0;
}

/* Make a written member's file executable if it should be, close it and link it into the
 * cache; 0 on success. The file descriptor is closed either way. */
static int close_member(const job_t *job, int fd, const places_t *places, int *linked,
                        failure_t *failure) {
    int status = 0;
    if (job->executable && fchmod(fd, 0755) < 0) {
        set_os_error(failure, job->path);
        status = -1;
    }
    if (close(fd) < 0 && status == 0) {
        set_os_error(failure, job->path);
        status = -1;
    }
    if (status < 0)
        return -1;
    if (places->link_fd >= 0 && *linked && job->number >= 0) {
        /* `<link_dir>/<number / 256>/<number>`, as unpacked_cache.member_path. */
        char link_path[64];
        snprintf(link_path, sizeof(link_path), "%ld/%ld", job->number / PER_DIRECTORY,
                 job->number);
        if (linkat(places->fd, job->path, places->link_fd, link_path, 0) < 0
            && (errno != ENOENT || make_parents(places->link_fd, link_path) < 0
                || linkat(places->fd, job->path, places->link_fd, link_path, 0) < 0))
            *linked = 0;
    }
    return 0;
}

/* Start job `index`: its file is created, and its bytes put in the lane to be hashed (1), or,
 * for a member too large to inflate whole, unpacked here and now (0); -1 on failure. */
static int load_lane(const unsigned char *archive, size_t archive_size, const job_t *jobs,
                     Py_ssize_t index, tools_t *tools, lane_t *lane, const places_t *places,
                     int *linked, result_t *results, failure_t *failure) {
    const job_t *job = &jobs[index];
    failure->index = index;
    const unsigned char *data = member_data(archive, archive_size, job, failure);
    if (data == NULL)
        return -1;
    if (job->method == 0 && job->compress_size != job->file_size) {
        set_problem(failure, "its stored size differs from its recorded size");
        return -1;
    }
    int fd = create_file(places->fd, job->path);
    if (fd < 0) {
        set_os_error(failure, job->path);
        return -1;
    }
    int whole = 1;
    if (job->method == 0) {
        lane->data = data;
        lane->size = (size_t)job->compress_size;
        whole = 0;
    }
#ifdef HAVE_LIBDEFLATE
    else {
        whole = inflate_whole(tools, lane, data, job, failure);
        if (whole < 0) {
            close(fd);
            return -1;
        }
    }
#endif
    if (whole == 0) {
        if (lane_begin(&lane->hash) < 0) {
            close(fd);
            set_problem(failure, "SHA-256 is not available");
            return -1;
        }
        lane->job = index;
        lane->fd = fd;
        lane->hashed = 0;
        lane->written = 0;
        return 1;
    }
    if (stream_member(tools, data, job, fd, &results[index], failure) < 0) {
        close(fd);
        return -1;
    }
    return close_member(job, fd, places, linked, failure);
}

/* A lane whose member is hashed up to its last partial block: digest, write, close, link. */
static int finish_lane(const job_t *jobs, lane_t *lane, const places_t *places, int *linked,
                       result_t *results, failure_t *failure) {
    const job_t *job = &jobs[lane->job];
    result_t *result = &results[lane->job];
    failure->index = lane->job;
    int fd = lane->fd;
    lane->job = -1;
    lane_final(&lane->hash, lane->data + lane->hashed, lane->size - lane->hashed, result->digest);
    result->size = lane->size;
    if (write_all(fd, lane->data + lane->written, lane->size - lane->written) < 0) {
        set_os_error(failure, job->path);
        close(fd);
        return -1;
    }
    return close_member(job, fd, places, linked, failure);
}

static size_t blocks_left(const lane_t *lane) { return (lane->size - lane->hashed) / 64; }

#define PIECE_BLOCKS ((size_t)(PIECE_BYTES / 64))

/* Write what was hashed since the last piece, once that is a whole piece. */
static int flush_lane(const job_t *jobs, lane_t *lane, failure_t *failure) {
    if (lane->hashed - lane->written < PIECE_BYTES)
        return 0;
    if (write_all(lane->fd, lane->data + lane->written, lane->hashed - lane->written) < 0) {
        failure->index = lane->job;
        set_os_error(failure, jobs[lane->job].path);
        close(lane->fd);
        lane->job = -1;
        return -1;
    }
    lane->written = lane->hashed;
    return 0;
}

/* A job in the order members are taken: by size, largest first. */
typedef struct {
    unsigned long long size;
    Py_ssize_t index;
} ranked_t;

static int larger_first(const void *left, const void *right) {
    const ranked_t *a = left, *b = right;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    /* Equal sizes keep their order, so a run is the same every time. */
    return (a->index > b->index) - (a->index < b->index);
}

/* Runs without the GIL. Returns the number of jobs done (all of them unless one failed, which
 * `failure` names). Members are hashed two at a time (see `_sha256.h`), each lane taking the
 * next member as soon as its own is written. */
static Py_ssize_t run_jobs(const unsigned char *archive, size_t archive_size, const job_t *jobs,
                           Py_ssize_t count, const places_t *places, int *linked,
                           unsigned long long whole_limit, result_t *results, failure_t *failure) {
    tools_t tools;
    lane_t lanes[2];
    memset(&tools, 0, sizeof(tools));
    memset(lanes, 0, sizeof(lanes));
    lanes[0].job = lanes[1].job = -1;
    tools.whole_limit = whole_limit;
#ifdef HAVE_LIBDEFLATE
    pool_take(&lanes[0], 0);
    pool_take(&lanes[1], 0);
#endif
    Py_ssize_t done = 0, front = 0, back = count;
    ranked_t *order = NULL;
    int failed = 0;
    if (inflateInit2(&tools.inflater, -MAX_WBITS) != Z_OK) {
        failure->index = 0;
        set_problem(failure, "the inflater cannot start");
        return 0;
    }
    tools.hasher = EVP_MD_CTX_new();
    tools.block = malloc(BLOCK);
#ifdef HAVE_LIBDEFLATE
    tools.whole = libdeflate_alloc_decompressor();
    if (tools.whole == NULL) {
        failure->index = 0;
        set_problem(failure, "out of memory");
        goto end;
    }
#endif
    if (tools.hasher == NULL || tools.block == NULL) {
        failure->index = 0;
        set_problem(failure, "out of memory");
        goto end;
    }
    /* By size, largest first: one lane works down from the largest member (reusing its buffer),
     * the other up from the smallest, so the member left to hash alone at the end is a middling
     * one and only one buffer grows large. */
    order = malloc(sizeof(ranked_t) * (size_t)(count > 0 ? count : 1));
    if (order == NULL) {
        failure->index = 0;
        set_problem(failure, "out of memory");
        goto end;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        order[i].size = jobs[i].file_size;
        order[i].index = i;
    }
    qsort(order, (size_t)count, sizeof(ranked_t), larger_first);
    for (;;) {
        for (int i = 0; i < 2 && !failed; i++) {
            while (lanes[i].job < 0 && front < back) {
                /* One lane takes the largest members, the other the smallest. */
                Py_ssize_t index = i == 0 ? order[front++].index : order[--back].index;
                int status = load_lane(archive, archive_size, jobs, index, &tools, &lanes[i],
                                       places, linked, results, failure);
                if (status < 0) {
                    failed = 1;
                    break;
                }
                if (status == 0)
                    done++;
            }
        }
        if (failed)
            break;
        lane_t *first = lanes[0].job >= 0 ? &lanes[0] : NULL;
        lane_t *second = lanes[1].job >= 0 ? &lanes[1] : NULL;
        if (first == NULL && second == NULL)
            break;
        if (first != NULL && second != NULL) {
            size_t blocks = blocks_left(first) < blocks_left(second) ? blocks_left(first)
                                                                     : blocks_left(second);
            if (blocks > PIECE_BLOCKS)
                blocks = PIECE_BLOCKS;
            lanes_blocks2(&first->hash, first->data + first->hashed, &second->hash,
                          second->data + second->hashed, blocks);
            first->hashed += blocks * 64;
            second->hashed += blocks * 64;
        } else {
            /* No other member is left to pair with: this one alone, a piece at a time. */
            lane_t *only = first != NULL ? first : second;
            size_t blocks = blocks_left(only);
            if (blocks > PIECE_BLOCKS)
                blocks = PIECE_BLOCKS;
            lanes_blocks1(&only->hash, only->data + only->hashed, blocks);
            only->hashed += blocks * 64;
        }
        for (int i = 0; i < 2 && !failed; i++)
            if (lanes[i].job >= 0 && flush_lane(jobs, &lanes[i], failure) < 0)
                failed = 1;
        for (int i = 0; i < 2 && !failed; i++) {
            if (lanes[i].job >= 0 && blocks_left(&lanes[i]) == 0) {
                if (finish_lane(jobs, &lanes[i], places, linked, results, failure) < 0)
                    failed = 1;
                else
                    done++;
            }
        }
        if (failed)
            break;
    }
end:
    for (int i = 0; i < 2; i++) {
        if (lanes[i].job >= 0)
            close(lanes[i].fd);
        lane_free(&lanes[i].hash);
#ifdef HAVE_LIBDEFLATE
        pool_give(lanes[i].buffer, lanes[i].capacity);
#else
        buffer_free(lanes[i].buffer, lanes[i].capacity);
#endif
    }
#ifdef HAVE_LIBDEFLATE
    if (tools.whole != NULL)
        libdeflate_free_decompressor(tools.whole);
#endif
    free(order);
    free(tools.block);
    EVP_MD_CTX_free(tools.hasher);
    inflateEnd(&tools.inflater);
    return done;
}

/* The exception for a failure: `OSError` naming the file, or `UnpackError(index, problem)`. */
static void raise_failure(const failure_t *failure) {
    if (failure->os_errno) {
        errno = failure->os_errno;
        if (failure->os_base == NULL || failure->os_path == failure->os_base
            || failure->os_path[0] == '/') {
            PyErr_SetFromErrnoWithFilename(PyExc_OSError, failure->os_path);
            return;
        }
        /* A job's path is relative to the call's directory: the error names the whole path. */
        PyObject *path = PyBytes_FromFormat("%s/%s", failure->os_base, failure->os_path);
        PyObject *name = path != NULL ? PyUnicode_DecodeFSDefaultAndSize(
                                            PyBytes_AS_STRING(path), PyBytes_GET_SIZE(path))
                                      : NULL;
        errno = failure->os_errno;
        if (name != NULL)
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, name);
        Py_XDECREF(name);
        Py_XDECREF(path);
        return;
    }
    PyObject *error = Py_BuildValue("(ns)", failure->index, failure->problem);
    if (error != NULL) {
        PyErr_SetObject(UnpackError, error);
        Py_DECREF(error);
    }
}

static PyObject *b64_digest(const unsigned char digest[32]) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char text[44];
    size_t out = 0;
    for (size_t i = 0; i < 30; i += 3) {
        uint32_t v = ((uint32_t)digest[i] << 16) | ((uint32_t)digest[i + 1] << 8) | digest[i + 2];
        text[out++] = alphabet[(v >> 18) & 63];
        text[out++] = alphabet[(v >> 12) & 63];
        text[out++] = alphabet[(v >> 6) & 63];
        text[out++] = alphabet[v & 63];
    }
    uint32_t v = ((uint32_t)digest[30] << 16) | ((uint32_t)digest[31] << 8);
    text[out++] = alphabet[(v >> 18) & 63];
    text[out++] = alphabet[(v >> 12) & 63];
    text[out++] = alphabet[(v >> 6) & 63];
    return PyUnicode_FromStringAndSize(text, (Py_ssize_t)out);
}

static int parse_job(PyObject *item, job_t *job) {
    PyObject *path;
    if (!PyArg_ParseTuple(item, "KKiKO!pl;a job is (offset, compressed size, method, size, path, "
                                "executable, cache number)",
                          &job->header_offset, &job->compress_size, &job->method, &job->file_size,
                          &PyBytes_Type, &path, &job->executable, &job->number))
        return -1;
    if (job->method != 0 && job->method != 8) {
        PyErr_Format(PyExc_ValueError, "compression method %d is not unpacked here", job->method);
        return -1;
    }
    job->path = PyBytes_AS_STRING(path);
    return 0;
}

/* `run_jobs` with the jobs' paths relative to `base_dir` (NULL: as given) and links made in
 * `link_dir` (NULL: none; made if missing, and linking stops if it cannot be). */
static Py_ssize_t run_jobs_in(const char *base_dir, const char *link_dir,
                              const unsigned char *archive, size_t archive_size, const job_t *jobs,
                              Py_ssize_t count, int *linked, unsigned long long whole_limit,
                              result_t *results, failure_t *failure) {
    places_t places = {AT_FDCWD, -1};
    if (base_dir != NULL) {
        places.fd = open_directory(base_dir, 1);
        if (places.fd < 0) {
            set_os_error(failure, base_dir);
            return 0;
        }
        failure->os_base = base_dir;
    }
    if (*linked && count > 0) {
        places.link_fd = open_directory(link_dir, 1);
        if (places.link_fd < 0)
            *linked = 0;
    }
    Py_ssize_t done =
        run_jobs(archive, archive_size, jobs, count, &places, linked, whole_limit, results, failure);
    if (places.link_fd >= 0)
        close(places.link_fd);
    if (places.fd != AT_FDCWD)
        close(places.fd);
    return done;
}

/* An optional directory argument: bytes, or NULL for None; -1 (with TypeError) otherwise. */
static int optional_directory(PyObject *arg, const char *name, const char **directory) {
    *directory = NULL;
    if (arg == NULL || arg == Py_None)
        return 0;
    if (!PyBytes_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes or None", name);
        return -1;
    }
    *directory = PyBytes_AS_STRING(arg);
    return 0;
}

static PyObject *unpack(PyObject *module, PyObject *args) {
    Py_buffer archive;
    PyObject *jobs_arg, *link_dir_arg, *base_dir_arg = NULL;
    unsigned long long whole_limit = WHOLE_LIMIT;
    if (!PyArg_ParseTuple(args, "y*OO|KO:unpack", &archive, &jobs_arg, &link_dir_arg,
                          &whole_limit, &base_dir_arg))
        return NULL;
    PyObject *jobs_tuple = NULL, *output = NULL, *results_list = NULL;
    job_t *jobs = NULL;
    result_t *results = NULL;
    const char *link_dir, *base_dir;
    if (optional_directory(link_dir_arg, "link_dir", &link_dir) < 0
        || optional_directory(base_dir_arg, "base_dir", &base_dir) < 0)
        goto end;
    /* A tuple of our own: nothing can change it while the GIL is released. */
    jobs_tuple = PySequence_Tuple(jobs_arg);
    if (jobs_tuple == NULL)
        goto end;
    Py_ssize_t count = PyTuple_GET_SIZE(jobs_tuple);
    jobs = PyMem_Calloc((size_t)count + 1, sizeof(job_t));
    results = PyMem_Calloc((size_t)count + 1, sizeof(result_t));
    if (jobs == NULL || results == NULL) {
        PyErr_NoMemory();
        goto end;
    }
    for (Py_ssize_t i = 0; i < count; i++)
        if (parse_job(PyTuple_GET_ITEM(jobs_tuple, i), &jobs[i]) < 0)
            goto end;
    failure_t failure;
    memset(&failure, 0, sizeof(failure));
    int linked = link_dir != NULL;
    Py_ssize_t done;
    Py_BEGIN_ALLOW_THREADS
    done = run_jobs_in(base_dir, link_dir, archive.buf, (size_t)archive.len, jobs, count, &linked,
                       whole_limit, results, &failure);
    Py_END_ALLOW_THREADS
    if (done < count) {
        raise_failure(&failure);
        goto end;
    }
    results_list = PyList_New(count);
    if (results_list == NULL)
        goto end;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *digest = b64_digest(results[i].digest);
        PyObject *pair = digest ? Py_BuildValue("(NK)", digest, results[i].size) : NULL;
        if (pair == NULL)
            goto end;
        PyList_SET_ITEM(results_list, i, pair);
    }
    output = Py_BuildValue("(OO)", results_list, linked ? Py_True : Py_False);
end:
    Py_XDECREF(results_list);
    PyMem_Free(results);
    PyMem_Free(jobs);
    Py_XDECREF(jobs_tuple);
    PyBuffer_Release(&archive);
    return output;
}

/* --- linking from the unpacked-wheel cache -------------------------------------------------- */

typedef struct {
    long number;
    unsigned long long size;
    const char *path;
} link_job_t;

/* Runs without the GIL: hard-link every job's cached file to its path (making the parents), after
 * checking the file has the recorded size and was not modified after `created_ns`. Returns the
 * number of jobs done; at a failure, `failure` says which and why. */
static Py_ssize_t run_links(const char *source_dir, const char *base_dir, const link_job_t *jobs,
                            Py_ssize_t count, long long created_ns, failure_t *failure) {
    char source[64];
    Py_ssize_t done = 0;
    int base = AT_FDCWD;
    int cached = open(source_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cached < 0) {
        failure->index = 0;
        if (errno == ENOENT)
            set_problem(failure, "its cached file is missing");
        else
            set_os_error(failure, source_dir);
        return 0;
    }
    if (base_dir != NULL) {
        base = open_directory(base_dir, 1);
        if (base < 0) {
            set_os_error(failure, base_dir);
            close(cached);
            return 0;
        }
        failure->os_base = base_dir;
    }
    for (; done < count; done++) {
        const link_job_t *job = &jobs[done];
        failure->index = done;
        /* `<source_dir>/<number / 256>/<number>`, as unpacked_cache.member_path. */
        snprintf(source, sizeof(source), "%ld/%ld", job->number / PER_DIRECTORY, job->number);
        struct stat facts;
        if (fstatat(cached, source, &facts, 0) < 0) {
            if (errno == ENOENT) {
                set_problem(failure, "its cached file is missing");
            } else {
                set_os_error(failure, job->path);
            }
            break;
        }
        long long modified = (long long)facts.st_mtim.tv_sec * 1000000000LL + facts.st_mtim.tv_nsec;
        if ((unsigned long long)facts.st_size != job->size || modified > created_ns) {
            set_problem(failure, "its cached file was changed");
            break;
        }
        if (linkat(cached, source, base, job->path, 0) < 0
            && (errno != ENOENT || make_parents(base, job->path) < 0
                || linkat(cached, source, base, job->path, 0) < 0)) {
            set_os_error(failure, job->path);
            break;
        }
    }
    close(cached);
    if (base != AT_FDCWD)
        close(base);
    return done;
}

static PyObject *link_cached(PyObject *module, PyObject *args) {
    PyObject *source_arg, *jobs_arg, *base_dir_arg = NULL;
    long long created_ns;
    const char *base_dir;
    if (!PyArg_ParseTuple(args, "O!OL|O:link", &PyBytes_Type, &source_arg, &jobs_arg, &created_ns,
                          &base_dir_arg)
        || optional_directory(base_dir_arg, "base_dir", &base_dir) < 0)
        return NULL;
    PyObject *output = NULL;
    link_job_t *jobs = NULL;
    /* A tuple of our own: nothing can change it while the GIL is released. */
    PyObject *jobs_tuple = PySequence_Tuple(jobs_arg);
    if (jobs_tuple == NULL)
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(jobs_tuple);
    jobs = PyMem_Calloc((size_t)count + 1, sizeof(link_job_t));
    if (jobs == NULL) {
        PyErr_NoMemory();
        goto end;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *path;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(jobs_tuple, i),
                              "lKO!;a link job is (cache number, size, path)", &jobs[i].number,
                              &jobs[i].size, &PyBytes_Type, &path))
            goto end;
        jobs[i].path = PyBytes_AS_STRING(path);
    }
    const char *source_dir = PyBytes_AS_STRING(source_arg);
    failure_t failure;
    memset(&failure, 0, sizeof(failure));
    Py_ssize_t done;
    Py_BEGIN_ALLOW_THREADS
    done = run_links(source_dir, base_dir, jobs, count, created_ns, &failure);
    Py_END_ALLOW_THREADS
    if (done < count) {
        raise_failure(&failure);
        goto end;
    }
    output = Py_NewRef(Py_None);
end:
    PyMem_Free(jobs);
    Py_DECREF(jobs_tuple);
    return output;
}

/* --- the central directory ---------------------------------------------------------------- */

static PyTypeObject *MemberType;

static PyStructSequence_Field member_fields[] = {
    {"filename", "the member's name, as zipfile decodes it"},
    {"header_offset", "where its local header starts in the file"},
    {"compress_size", "bytes stored"},
    {"file_size", "bytes once inflated"},
    {"compress_type", "compression method (0 stored, 8 deflated, ...)"},
    {"flag_bits", "general purpose flags"},
    {"external_attr", "external attributes (the mode in the high 16 bits)"},
    {"CRC", "CRC-32 of the inflated bytes"},
    {NULL, NULL},
};

static PyStructSequence_Desc member_desc = {
    "wheelnext_jupyter.install._unpack.Member",
    "One entry of a zip's central directory, with zipfile.ZipInfo's attribute names.",
    member_fields,
    8,
};

static uint32_t read_u32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static unsigned long long read_u64(const unsigned char *p) {
    return (unsigned long long)read_u32(p) | ((unsigned long long)read_u32(p + 4) << 32);
}

#define EOCD_SIZE 22
#define EOCD64_SIZE 56
#define LOCATOR_SIZE 20
#define ENTRY_SIZE 46

static PyObject *bad_archive(const char *problem) {
    PyErr_SetString(BadArchive, problem);
    return NULL;
}

/* The end of central directory record: the last signature whose comment fits the file. */
static long long find_end(const unsigned char *data, size_t size) {
    if (size < EOCD_SIZE)
        return -1;
    size_t lowest = size - EOCD_SIZE > 65535 ? size - EOCD_SIZE - 65535 : 0;
    for (size_t at = size - EOCD_SIZE;; at--) {
        if (memcmp(data + at, "PK\x05\x06", 4) == 0
            && at + EOCD_SIZE + read_u16(data + at + 20) <= size)
            return (long long)at;
        if (at == lowest)
            return -1;
    }
}

/* Zip64 values of an entry, from its extra field, for the fields that say 0xFFFFFFFF. */
static int zip64_values(const unsigned char *extra, size_t length, unsigned long long *file_size,
                        unsigned long long *compress_size, unsigned long long *offset) {
    size_t at = 0;
    while (at + 4 <= length) {
        unsigned id = read_u16(extra + at), size = read_u16(extra + at + 2);
        if (at + 4 + size > length)
            return -1;
        if (id == 1) {
            const unsigned char *field = extra + at + 4;
            size_t used = 0;
            unsigned long long *wanted[3] = {file_size, compress_size, offset};
            for (int i = 0; i < 3; i++) {
                if (*wanted[i] != 0xFFFFFFFFu)
                    continue;
                if (used + 8 > size)
                    return -1;
                *wanted[i] = read_u64(field + used);
                used += 8;
            }
            return 0;
        }
        at += 4 + size;
    }
    return 0;
}

static PyObject *directory(PyObject *module, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*:directory", &view))
        return NULL;
    const unsigned char *data = view.buf;
    size_t size = (size_t)view.len;
    PyObject *members = NULL, *result = NULL;
    long long end = find_end(data, size);
    if (end < 0) {
        bad_archive("the end of its central directory is missing");
        goto done;
    }
    /* The entries are read to the directory's end, as zipfile does, whatever their count. */
    unsigned long long cd_size = read_u32(data + end + 12);
    unsigned long long cd_offset = read_u32(data + end + 16);
    long long records = end; /* where the directory's trailing records begin */
    if (end >= LOCATOR_SIZE && memcmp(data + end - LOCATOR_SIZE, "PK\x06\x07", 4) == 0) {
        long long zip64 = end - LOCATOR_SIZE - EOCD64_SIZE;
        if (zip64 < 0 || memcmp(data + zip64, "PK\x06\x06", 4) != 0) {
            bad_archive("its zip64 end of central directory is missing");
            goto done;
        }
        cd_size = read_u64(data + zip64 + 40);
        cd_offset = read_u64(data + zip64 + 48);
        records = zip64;
    }
    /* Data prepended to the archive shifts every offset (as zipfile allows). */
    if (cd_size > (unsigned long long)records || cd_offset > (unsigned long long)records - cd_size) {
        bad_archive("its central directory lies outside the file");
        goto done;
    }
    unsigned long long shift = (unsigned long long)records - cd_size - cd_offset;
    const unsigned char *entry = data + cd_offset + shift;
    const unsigned char *limit = entry + cd_size;
    members = PyList_New(0);
    if (members == NULL)
        goto done;
    while (entry < limit) {
        if ((size_t)(limit - entry) < ENTRY_SIZE || memcmp(entry, "PK\x01\x02", 4) != 0) {
            bad_archive("an entry of its central directory is malformed");
            goto done;
        }
        unsigned flags = read_u16(entry + 8), method = read_u16(entry + 10);
        unsigned name_length = read_u16(entry + 28), extra_length = read_u16(entry + 30);
        unsigned comment_length = read_u16(entry + 32);
        size_t length = ENTRY_SIZE + name_length + extra_length + comment_length;
        if ((size_t)(limit - entry) < length) {
            bad_archive("an entry of its central directory is truncated");
            goto done;
        }
        unsigned long long compress_size = read_u32(entry + 20), file_size = read_u32(entry + 24);
        unsigned long long offset = read_u32(entry + 42);
        if (zip64_values(entry + ENTRY_SIZE + name_length, extra_length, &file_size,
                         &compress_size, &offset)
            < 0) {
            bad_archive("an entry's zip64 extra field is corrupt");
            goto done;
        }
        const char *raw = (const char *)entry + ENTRY_SIZE;
        /* As zipfile: a name ends at its first NUL. */
        const char *nul = memchr(raw, 0, name_length);
        Py_ssize_t used = nul != NULL ? nul - raw : (Py_ssize_t)name_length;
        /* Code page 437 is ASCII below 0x80, which nearly every name is: the codec (a
         * Python-level call) only for the rest. */
        int ascii = 1;
        for (Py_ssize_t i = 0; i < used && ascii; i++)
            ascii = (unsigned char)raw[i] < 0x80;
        PyObject *name = ascii              ? PyUnicode_DecodeASCII(raw, used, NULL)
                         : flags & 0x800    ? PyUnicode_DecodeUTF8(raw, used, NULL)
                                            : PyUnicode_Decode(raw, used, "cp437", NULL);
        if (name == NULL) {
            PyErr_Clear();
            bad_archive("a member's name cannot be decoded");
            goto done;
        }
        PyObject *member = PyStructSequence_New(MemberType);
        if (member == NULL) {
            Py_DECREF(name);
            goto done;
        }
        PyStructSequence_SET_ITEM(member, 0, name);
        PyStructSequence_SET_ITEM(member, 1, PyLong_FromUnsignedLongLong(offset + shift));
        PyStructSequence_SET_ITEM(member, 2, PyLong_FromUnsignedLongLong(compress_size));
        PyStructSequence_SET_ITEM(member, 3, PyLong_FromUnsignedLongLong(file_size));
        PyStructSequence_SET_ITEM(member, 4, PyLong_FromLong((long)method));
        PyStructSequence_SET_ITEM(member, 5, PyLong_FromLong((long)flags));
        PyStructSequence_SET_ITEM(member, 6, PyLong_FromUnsignedLong(read_u32(entry + 38)));
        PyStructSequence_SET_ITEM(member, 7, PyLong_FromUnsignedLong(read_u32(entry + 16)));
        for (Py_ssize_t i = 1; i < 8; i++)
            if (PyStructSequence_GET_ITEM(member, i) == NULL) {
                Py_DECREF(member);
                goto done;
            }
        int appended = PyList_Append(members, member);
        Py_DECREF(member);
        if (appended < 0)
            goto done;
        entry += length;
    }
    result = members;
    members = NULL;
done:
    Py_XDECREF(members);
    PyBuffer_Release(&view);
    return result;
}

/* --- small members, with the GIL held ------------------------------------------------------ */

/* `inflate_small` and `crc32_small` take data of up to this size. They keep the GIL: a
 * dist-info file inflates in microseconds, while a thread that lets the GIL go waits up to the
 * switch interval (5 ms) to have it back whenever other threads are running Python. */
#define SMALL_LIMIT (1024 * 1024)

#ifdef HAVE_LIBDEFLATE
/* Only ever used with the GIL held, so one serves every thread. */
static struct libdeflate_decompressor *small_inflater;
#endif

/* The problem with deflated `data` that should inflate to exactly `size` bytes into `out`; NULL
 * when it does. */
static const char *inflate_exactly(const unsigned char *data, size_t length, unsigned char *out,
                                   size_t size) {
#ifdef HAVE_LIBDEFLATE
    if (small_inflater == NULL) {
        small_inflater = libdeflate_alloc_decompressor();
        if (small_inflater == NULL)
            return "out of memory";
    }
    size_t used = 0;
    switch (libdeflate_deflate_decompress_ex(small_inflater, data, length, out, size, &used, NULL)) {
    case LIBDEFLATE_SUCCESS:
        return NULL;
    case LIBDEFLATE_SHORT_OUTPUT:
        return "it inflates to less than its recorded size";
    case LIBDEFLATE_INSUFFICIENT_SPACE:
        return "it inflates beyond its recorded size";
    default:
        return "invalid deflate data";
    }
#else
    z_stream stream;
    memset(&stream, 0, sizeof(stream));
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
        return "the inflater cannot start";
    stream.next_in = (unsigned char *)data;
    stream.avail_in = (uInt)length;
    stream.next_out = out;
    stream.avail_out = (uInt)size;
    int status = inflate(&stream, Z_FINISH);
    uInt left = stream.avail_out;
    inflateEnd(&stream);
    if (status == Z_STREAM_END)
        return left == 0 ? NULL : "it inflates to less than its recorded size";
    if (status == Z_BUF_ERROR)
        return left == 0 ? "it inflates beyond its recorded size" : "it is truncated";
    return "invalid deflate data";
#endif
}

static PyObject *inflate_small(PyObject *module, PyObject *args) {
    Py_buffer data;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "y*n:inflate_small", &data, &size))
        return NULL;
    PyObject *output = NULL;
    if (size < 0 || size > SMALL_LIMIT || data.len > SMALL_LIMIT) {
        PyErr_Format(PyExc_ValueError, "inflate_small takes up to %d bytes in and out",
                     SMALL_LIMIT);
        goto end;
    }
    output = PyBytes_FromStringAndSize(NULL, size);
    if (output == NULL)
        goto end;
    const char *problem = inflate_exactly(data.buf, (size_t)data.len,
                                          (unsigned char *)PyBytes_AS_STRING(output), (size_t)size);
    if (problem != NULL) {
        PyErr_SetString(PyExc_ValueError, problem);
        Py_CLEAR(output);
    }
end:
    PyBuffer_Release(&data);
    return output;
}

static PyObject *crc32_small(PyObject *module, PyObject *arg) {
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *result = NULL;
    if (data.len > SMALL_LIMIT)
        PyErr_Format(PyExc_ValueError, "crc32_small takes up to %d bytes", SMALL_LIMIT);
    else
        result = PyLong_FromUnsignedLong(crc32(0L, data.buf, (uInt)data.len));
    PyBuffer_Release(&data);
    return result;
}

/* Free the lane buffers kept between calls; the bytes freed. */
static PyObject *release_buffers(PyObject *module, PyObject *unused) {
    size_t freed = 0;
#ifdef HAVE_LIBDEFLATE
    pooled_t taken[POOL_SLOTS];
    pthread_mutex_lock(&pool_lock);
    memcpy(taken, pool, sizeof(pool));
    memset(pool, 0, sizeof(pool));
    pthread_mutex_unlock(&pool_lock);
    for (int i = 0; i < POOL_SLOTS; i++) {
        freed += taken[i].capacity;
        buffer_free(taken[i].buffer, taken[i].capacity);
    }
#endif
    return PyLong_FromSize_t(freed);
}

/* The capacities of the buffers kept, largest first (for tests). */
static PyObject *kept_buffers(PyObject *module, PyObject *unused) {
    PyObject *sizes = PyList_New(0);
    if (sizes == NULL)
        return NULL;
#ifdef HAVE_LIBDEFLATE
    size_t capacities[POOL_SLOTS];
    int count = 0;
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < POOL_SLOTS; i++)
        if (pool[i].buffer != NULL)
            capacities[count++] = pool[i].capacity;
    pthread_mutex_unlock(&pool_lock);
    for (int i = 0; i < count; i++) {
        PyObject *size = PyLong_FromSize_t(capacities[i]);
        if (size == NULL || PyList_Append(sizes, size) < 0) {
            Py_XDECREF(size);
            Py_DECREF(sizes);
            return NULL;
        }
        Py_DECREF(size);
    }
    if (PyList_Sort(sizes) < 0 || PyList_Reverse(sizes) < 0) {
        Py_DECREF(sizes);
        return NULL;
    }
#endif
    return sizes;
}

/* The switch for tests: the portable path is the one other machines take. */
static PyObject *use_sha_extensions(PyObject *module, PyObject *arg) {
    int enabled = PyObject_IsTrue(arg);
    if (enabled < 0)
        return NULL;
    sha_extensions = enabled && sha_extensions_available();
    return PyBool_FromLong(sha_extensions);
}

static PyMethodDef methods[] = {
    {"unpack", unpack, METH_VARARGS,
     "unpack(archive, jobs, link_dir[, whole_limit[, base_dir]]) -> (results, linked): unpack "
     "members of a mapped wheel (paths relative to base_dir when given)."},
    {"link", link_cached, METH_VARARGS,
     "link(source_dir, jobs, created_ns[, base_dir]) -> None: hard-link cached members (number, "
     "size, path) to their paths (relative to base_dir when given)."},
    {"directory", directory, METH_VARARGS,
     "directory(archive) -> list[Member]: the entries of a zip's central directory."},
    {"inflate_small", inflate_small, METH_VARARGS,
     "inflate_small(data, size) -> bytes: inflate raw deflate data to exactly `size` bytes, with "
     "the GIL held (up to SMALL_LIMIT bytes in and out); ValueError names the problem."},
    {"crc32_small", crc32_small, METH_O,
     "crc32_small(data) -> int: the CRC-32 of up to SMALL_LIMIT bytes, with the GIL held."},
    {"release_buffers", release_buffers, METH_NOARGS,
     "release_buffers() -> int: free the inflating buffers kept between calls; the bytes freed."},
    {"kept_buffers", kept_buffers, METH_NOARGS,
     "kept_buffers() -> list[int]: the sizes of the inflating buffers kept, largest first."},
    {"use_sha_extensions", use_sha_extensions, METH_O,
     "use_sha_extensions(enabled) -> bool: hash with the processor's SHA extensions where it has "
     "them (the default), or through OpenSSL; whether they are used now."},
    {NULL, NULL, 0, NULL},
};

static int exec_module(PyObject *module) {
    UnpackError = PyErr_NewExceptionWithDoc(
        "wheelnext_jupyter.install._unpack.UnpackError",
        "A member's data cannot be unpacked: args are (job index, problem).", PyExc_ValueError,
        NULL);
    if (UnpackError == NULL)
        return -1;
    if (PyModule_AddObject(module, "UnpackError", UnpackError) < 0) {
        Py_DECREF(UnpackError);
        return -1;
    }
    Py_INCREF(UnpackError);
    BadArchive = PyErr_NewExceptionWithDoc(
        "wheelnext_jupyter.install._unpack.BadArchive",
        "The file is not a zip archive that can be read: the argument says why.",
        PyExc_ValueError, NULL);
    if (BadArchive == NULL || PyModule_AddObject(module, "BadArchive", BadArchive) < 0) {
        Py_XDECREF(BadArchive);
        return -1;
    }
    Py_INCREF(BadArchive);
    if (MemberType == NULL) {
        MemberType = PyStructSequence_NewType(&member_desc);
        if (MemberType == NULL)
            return -1;
    }
    Py_INCREF(MemberType);
    if (PyModule_AddObject(module, "Member", (PyObject *)MemberType) < 0) {
        Py_DECREF(MemberType);
        return -1;
    }
    if (PyModule_AddIntConstant(module, "BLOCK", BLOCK) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "POOL_BYTES", (long)POOL_BYTES) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "SMALL_LIMIT", SMALL_LIMIT) < 0)
        return -1;
#ifdef HAVE_LIBDEFLATE
    PyObject *inflates_whole = Py_True;
#else
    PyObject *inflates_whole = Py_False;
#endif
    if (PyModule_AddObjectRef(module, "INFLATES_WHOLE", inflates_whole) < 0)
        return -1;
    return PyModule_AddIntConstant(module, "WHOLE_LIMIT", WHOLE_LIMIT);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT, "_unpack", "Unpack a wheel's members without the GIL.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__unpack(void) {
    definition.m_slots = slots;
    return PyModuleDef_Init(&definition);
}
