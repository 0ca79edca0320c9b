// The emulator's scheduler (fibers, barriers, warp exchanges, mma.sync) and its runtime API: memory, streams, events
// and graphs. See alma_emu.h for what is and is not emulated.
#include "alma_emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace alma_emu {

// ---- 16-bit floats ----------------------------------------------------------------------------------------------
unsigned short f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) return (unsigned short)(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (a >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);  // 65520 and above round to infinity
    if (a < 0x38800000u) {                                          // below 2^-14: a subnormal half (or zero)
        float v;
        memcpy(&v, &a, 4);
        return (unsigned short)(sign | (uint32_t)nearbyintf(v * 16777216.0f));  // units of 2^-24, ties to even
    }
    uint32_t h = ((((a >> 23) - 127 + 15) << 10) | ((a & 0x7fffffu) >> 13));
    uint32_t rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (unsigned short)(sign | h);
}

float f16_to_f32(unsigned short h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    if (e == 0) {
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    if (e == 31) bits = sign | 0x7f800000u | (m << 13);
    else bits = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

unsigned short f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((x >> 16) | 0x40u);
    return (unsigned short)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bf16_to_f32(unsigned short b) {
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

// ---- errors -----------------------------------------------------------------------------------------------------
static thread_local cudaError_t last_error = cudaSuccess;
static std::mutex state_lock;      // allocations, attributes
static cudaError_t sticky = cudaSuccess;  // a failed kernel: every later call reports it, as a real context would

static cudaError_t note(cudaError_t e) {
    if (e != cudaSuccess) last_error = e;
    return e;
}

static void fail_kernel(const char *kernel, const Block &b, const std::string &why) {
    fprintf(stderr, "alma-emu: kernel %s, block (%u,%u,%u): %s\n", kernel, b.idx.x, b.idx.y, b.idx.z, why.c_str());
    fflush(stderr);
    sticky = cudaErrorLaunchFailure;
}

// ---- fibers ------------------------------------------------------------------------------------------------------
// On x86-64 a fiber switch saves the callee-saved registers on the old stack and swaps stack pointers (swapcontext
// would also make a signal-mask system call per switch, and a block switches at every barrier of every thread).
#if defined(__x86_64__) && !defined(ALMA_EMU_UCONTEXT)
extern "C" void alma_emu_switch(void **save_sp, void *next_sp);
asm(R"(
    .text
    .globl alma_emu_switch
    .type alma_emu_switch, @function
alma_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size alma_emu_switch, .-alma_emu_switch
)");
#define ALMA_EMU_FAST_SWITCH 1
#endif

enum State { READY, AT_BLOCK_BARRIER, AT_WARP_BARRIER, AT_MBARRIER, DONE };
static const size_t STACK = 256 * 1024;  // per fiber, the lowest page inaccessible

// A wgmma.mma_async a thread issued and has not waited for yet (group: its commit group, counted from 0).
struct WgmmaOp {
    bool bf16;
    int n;
    float *d;
    uint64_t desc_a, desc_b;
    unsigned group;
    bool trans_b;                  // B N-major
    std::vector<uint32_t> a_regs;  // A from registers: the warp's 32 lanes × 4 (empty: A in shared memory)
};

// An mbarrier of the running block: arrivals still expected in the current phase, the transaction count (bytes
// expected and not yet arrived), the phase, and the threads asleep in a wait on it.
struct Mbarrier {
    unsigned count = 0, pending = 0, phase = 0;
    long long tx = 0;
    std::vector<unsigned> waiters;
};

struct Fiber {
#ifdef ALMA_EMU_FAST_SWITCH
    void *sp = nullptr;
#else
    ucontext_t ctx;
#endif
    void *stack = nullptr;
    State state = READY;
    Thread t;
    std::vector<WgmmaOp> wgmma;
    unsigned wgmma_groups = 0;
};

struct Scheduler {
#ifdef ALMA_EMU_FAST_SWITCH
    void *home_sp = nullptr;
#else
    ucontext_t home;
#endif
    std::vector<Fiber> fibers;
    std::vector<uint64_t> slots;    // [parity][thread]: shuffled values
    std::vector<uint32_t> mma;      // [parity][thread][6]: mma.sync operand registers
    std::vector<double> products;   // [parity][warp][16 * 8]: the warp's A·B of its latest mma.sync
    std::vector<uint64_t> product_of, releases;  // [parity][warp]: release the product was computed after; [warp]
    std::vector<unsigned char> smem;
    std::map<size_t, Mbarrier> mbarriers;  // by shared-memory offset
    const std::function<void()> *body = nullptr;
    Fiber *running = nullptr;
    // The block being run: fibers ready to run (in order), threads at __syncthreads, exited threads, and per warp
    // the lanes waiting at a warp operation and the lanes exited. An impossible barrier is described in `error`.
    std::vector<unsigned> ready;
    size_t next = 0;
    unsigned n = 0, n_padded = 0, at_block = 0, done = 0;
    std::vector<unsigned> at_warp, exited;
    std::string error;
};
static Scheduler *sched = nullptr;
Thread *current_thread = nullptr;
Block *current_block = nullptr;
uint64_t *exchange_slots = nullptr;
unsigned exchange_stride = 0;
static std::mutex run_lock;  // one launch runs at a time (kernels' __shared__ variables are plain statics)

static bool reverse_order() {
    static int r = -1;
    if (r < 0) {
        const char *o = getenv("ALMA_EMU_ORDER");
        r = o != nullptr && strcmp(o, "reverse") == 0;
    }
    return r == 1;
}

/**
 * Suspends the running fiber (waiting or done) and passes control straight to the next ready fiber, or back to the
 * scheduler when none is ready or a barrier failed. A fiber can be its own successor (its arrival released its warp).
 */
static void to_scheduler() {
    Scheduler &s = *sched;
    Fiber *f = s.running;
    if (s.next == s.ready.size()) {
        s.ready.clear();
        s.next = 0;
    }
    if (s.error.empty() && s.next < s.ready.size()) {
        Fiber *n = &s.fibers[s.ready[s.next++]];
        s.running = n;
        current_thread = &n->t;
        if (n == f) return;
#ifdef ALMA_EMU_FAST_SWITCH
        alma_emu_switch(&f->sp, n->sp);
#else
        swapcontext(&f->ctx, &n->ctx);
#endif
        return;
    }
#ifdef ALMA_EMU_FAST_SWITCH
    alma_emu_switch(&f->sp, s.home_sp);
#else
    swapcontext(&f->ctx, &s.home);
#endif
}

/** Resumes fiber f; returns when no fiber is ready (all wait or are done) or a barrier failed. */
static void resume(Scheduler &s, Fiber &f) {
    s.running = &f;
    current_thread = &f.t;
#ifdef ALMA_EMU_FAST_SWITCH
    alma_emu_switch(&s.home_sp, f.sp);
#else
    swapcontext(&s.home, &f.ctx);
#endif
}

static void arrived(Scheduler &s, unsigned i);

static void fiber_main() {
    Scheduler *s = sched;
    (*s->body)();
    Fiber *f = s->running;
    f->state = DONE;
    s->done++;
    s->exited[f->t.warp]++;
    arrived(*s, f->t.linear);
#ifdef ALMA_EMU_FAST_SWITCH
    to_scheduler();  // never resumed
    abort();
#else
    to_scheduler();  // a done fiber is never resumed
    abort();
#endif
}

/** Prepares fiber f to start fiber_main on its stack at the next resume. */
static void start(Scheduler &s, Fiber &f, unsigned i) {
#ifdef ALMA_EMU_FAST_SWITCH
    // Stack tops staggered by a few cache lines: otherwise all of them fall into the same cache sets.
    uintptr_t top = ((uintptr_t)f.stack + STACK - (i % 61) * 1088) & ~(uintptr_t)15;
    void **sp = (void **)top;
    *--sp = nullptr;                  // fake return address of fiber_main: rsp % 16 == 8 on its entry
    *--sp = (void *)&fiber_main;      // alma_emu_switch's ret jumps here
    for (int i = 0; i < 6; i++) *--sp = nullptr;  // rbp rbx r12 r13 r14 r15
    f.sp = sp;
    (void)s;
    (void)i;
#else
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = STACK - (i % 61) * 1088;
    f.ctx.uc_link = &s.home;
    makecontext(&f.ctx, fiber_main, 0);
#endif
}

static void make_ready(Scheduler &s, unsigned lo, unsigned hi) {
    for (unsigned k = lo; k < hi; k++) {
        unsigned i = reverse_order() ? hi - 1 - (k - lo) : k;
        s.fibers[i].state = READY;
        s.ready.push_back(i);
    }
}

/** Bookkeeping after fiber i changed state: releases a barrier it completed, or notes one that cannot complete. */
static void arrived(Scheduler &s, unsigned i) {
    unsigned w = i / 32, lo = w * 32, hi = lo + 32 < s.n ? lo + 32 : s.n;
    if (s.at_warp[w] > 0 && s.error.empty()) {
        if (hi - lo < 32)
            s.error = "warp " + std::to_string(w) + " has only " + std::to_string(hi - lo) +
                      " lanes (block size not a multiple of 32) but a lane used a full-warp operation";
        else if (s.at_warp[w] == 32) {
            s.at_warp[w] = 0;
            s.releases[w]++;
            make_ready(s, lo, hi);
        } else if (s.at_warp[w] + s.exited[w] == 32)
            s.error = "warp " + std::to_string(w) + ": " + std::to_string(s.at_warp[w]) +
                      " lanes wait at a full-warp operation (shuffle/mma) after " + std::to_string(s.exited[w]) +
                      " lanes exited";
    }
    if (s.at_block > 0 && s.at_block + s.done == s.n && s.error.empty()) {
        if (s.done > 0)
            s.error = "__syncthreads() reached by " + std::to_string(s.at_block) + " threads after " +
                      std::to_string(s.done) + " threads of the block exited";
        else {
            s.at_block = 0;
            make_ready(s, 0, s.n);
        }
    }
}

static void wait_at(State st) {
    Scheduler &s = *sched;
    Fiber *f = s.running;
    f->state = st;
    if (st == AT_BLOCK_BARRIER) s.at_block++;
    else s.at_warp[f->t.warp]++;
    arrived(s, f->t.linear);
    to_scheduler();
}

void syncthreads() { wait_at(AT_BLOCK_BARRIER); }
void syncwarp() { wait_at(AT_WARP_BARRIER); }

static unsigned long long block_serial = 0;  // blocks run so far (all launches)
static std::map<void *, unsigned long long> poisoned;  // static shared array -> block that last filled it

void poison_shared(void *array, size_t bytes) {
    unsigned long long &last = poisoned[array];
    if (last == block_serial) return;
    last = block_serial;
    memset(array, 0xff, bytes);
}

void check_full_mask(unsigned mask, const char *what) {
    if (mask != 0xffffffffu) {
        fprintf(stderr, "alma-emu: %s with mask %#x: only full-warp masks are emulated\n", what, mask);
        abort();
    }
}

/** Runs one block to completion; false (with the reason printed) when its barriers cannot complete. */
static bool run_block(Scheduler &s, const char *name, Block &b) {
    unsigned n = b.dim.x * b.dim.y * b.dim.z, warps = (n + 31) / 32;
    if (s.fibers.size() < n) s.fibers.resize(n);
    s.n = n;
    s.n_padded = warps * 32;
    s.slots.assign((size_t)2 * warps * 32, 0);
    exchange_slots = s.slots.data();
    exchange_stride = warps * 32;
    s.mma.assign((size_t)2 * warps * 32 * 6, 0);
    s.products.assign((size_t)2 * warps * 128, 0.0);
    s.product_of.assign((size_t)2 * warps, ~(uint64_t)0);
    s.releases.assign(warps, 0);
    s.at_block = s.done = 0;
    s.at_warp.assign(warps, 0);
    s.exited.assign(warps, 0);
    s.error.clear();
    s.ready.clear();
    s.next = 0;
    s.mbarriers.clear();
    for (unsigned i = 0; i < n; i++) {
        Fiber &f = s.fibers[i];
        if (f.stack == nullptr) {
            f.stack = mmap(nullptr, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (f.stack == MAP_FAILED) {
                f.stack = nullptr;
                fail_kernel(name, b, "cannot map a fiber stack");
                return false;
            }
            mprotect(f.stack, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);  // an overflowing fiber faults
        }
        f.t.linear = i;
        f.t.idx = uint3{i % b.dim.x, (i / b.dim.x) % b.dim.y, i / (b.dim.x * b.dim.y)};
        f.t.lane = i % 32;
        f.t.warp = i / 32;
        f.t.warp_ops = 0;
        f.wgmma.clear();
        f.wgmma_groups = 0;
        start(s, f, i);
    }
    make_ready(s, 0, n);
    if (s.error.empty() && s.next < s.ready.size()) resume(s, s.fibers[s.ready[s.next++]]);
    if (!s.error.empty()) {
        fail_kernel(name, b, s.error);
        return false;
    }
    for (unsigned i = 0; i < n; i++)
        if (!s.fibers[i].wgmma.empty()) {
            fail_kernel(name, b, "thread " + std::to_string(i) + " exited with wgmma products it never waited for");
            return false;
        }
    if (s.done == n) return true;
    std::string why = "barriers that cannot complete:";
    for (unsigned w = 0; w < warps; w++) {
        unsigned lo = w * 32, hi = lo + 32 < n ? lo + 32 : n, c[5] = {0, 0, 0, 0, 0};
        for (unsigned i = lo; i < hi; i++) c[s.fibers[i].state]++;
        why += " warp " + std::to_string(w) + " (" + std::to_string(c[AT_BLOCK_BARRIER]) + " at __syncthreads, " +
               std::to_string(c[AT_WARP_BARRIER]) + " at a warp operation, " + std::to_string(c[AT_MBARRIER]) +
               " waiting on an mbarrier, " + std::to_string(c[DONE]) + " exited);";
    }
    fail_kernel(name, b, why);
    return false;
}

// ---- launches -----------------------------------------------------------------------------------------------------
static std::map<const void *, int> max_dynamic_smem;
static const int DEFAULT_SMEM = 48 * 1024, OPTIN_SMEM = 227 * 1024;

cudaError_t set_func_attribute(const void *func, cudaFuncAttribute attr, int value) {
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || value > OPTIN_SMEM)
        return note(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> g(state_lock);
    max_dynamic_smem[func] = value;
    return cudaSuccess;
}

static void execute(const Config &c, const char *name, const std::function<void()> &body) {
    std::lock_guard<std::mutex> running(run_lock);
    if (sticky != cudaSuccess) return;
    static Scheduler own;  // its fibers' stacks are kept for the next launch
    sched = &own;
    own.body = &body;
    own.smem.assign(c.smem + 1024, 0xff);  // NaN-filled: reads of dynamic shared memory never written show up
    Block b;
    b.dim = c.block;
    b.grid = c.grid;
    // 1024-byte aligned, as the start of the shared window is on a GPU.
    b.dynamic_smem = (unsigned char *)(((uintptr_t)own.smem.data() + 1023) & ~(uintptr_t)1023);
    b.dynamic_bytes = c.smem;
    current_block = &b;
    for (unsigned z = 0; z < c.grid.z; z++)
        for (unsigned y = 0; y < c.grid.y; y++)
            for (unsigned x = 0; x < c.grid.x; x++) {
                b.idx = uint3{x, y, z};
                block_serial++;
                memset(b.dynamic_smem, 0xff, c.smem);
                if (!run_block(own, name, b)) return;
            }
}

// A queued operation (a launch, copy, fill or event record) on a stream; recorded while the stream is captured.
typedef std::function<void()> Op;

}  // namespace alma_emu

using namespace alma_emu;

struct alma_emu_stream {
    bool capturing = false;
    bool invalidated = false;
    std::vector<Op> captured;
};
struct alma_emu_event {
    std::chrono::steady_clock::time_point when;
    bool recorded = false;
};
struct alma_emu_graph {
    std::vector<Op> ops;
};

namespace alma_emu {
static thread_local cudaStream_t capturing_stream = nullptr;  // thread-local capture mode

/** Runs op now, or records it when s is being captured. */
static cudaError_t enqueue(cudaStream_t s, Op op) {
    if (sticky != cudaSuccess) return sticky;
    if (s != nullptr && s->capturing) {
        s->captured.push_back(std::move(op));
        return cudaSuccess;
    }
    op();
    return sticky;
}

/** A call that is illegal while this thread captures a stream (it would synchronise): invalidates the capture. */
static bool refused_during_capture(const char *what) {
    if (capturing_stream == nullptr) return false;
    fprintf(stderr, "alma-emu: %s while a stream is being captured (cudaErrorStreamCaptureUnsupported)\n", what);
    capturing_stream->invalidated = true;
    note(cudaErrorStreamCaptureUnsupported);
    return true;
}

static unsigned long long launches = 0;

void submit(const Config &c, const char *name, const void *func, std::function<void()> body) {
    unsigned threads = c.block.x * c.block.y * c.block.z;
    if (threads == 0 || threads > 1024 || c.block.z > 64 || c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 ||
        c.grid.y > 65535 || c.grid.z > 65535 || c.grid.x > 0x7fffffffu) {
        fprintf(stderr, "alma-emu: kernel %s: invalid configuration grid (%u,%u,%u) block (%u,%u,%u)\n", name,
                c.grid.x, c.grid.y, c.grid.z, c.block.x, c.block.y, c.block.z);
        note(cudaErrorInvalidConfiguration);
        return;
    }
    int allowed = DEFAULT_SMEM;
    {
        std::lock_guard<std::mutex> g(state_lock);
        auto it = max_dynamic_smem.find(func);
        if (it != max_dynamic_smem.end() && it->second > allowed) allowed = it->second;
    }
    if (c.smem > (size_t)allowed) {
        fprintf(stderr, "alma-emu: kernel %s: %zu bytes of dynamic shared memory, %d allowed\n", name, c.smem, allowed);
        note(cudaErrorInvalidValue);
        return;
    }
    launches++;
    Config copy = c;
    std::string kernel = name;
    enqueue(c.stream, [copy, kernel, body]() { execute(copy, kernel.c_str(), body); });
}

// ---- memory: every allocation ends where an inaccessible page begins ----------------------------------------------
struct Allocation {
    void *base;
    size_t mapped;
    size_t bytes;
};
static std::map<uintptr_t, Allocation> device_allocations, host_allocations;
static size_t device_bytes = 0;
static const size_t TOTAL = (size_t)16 << 30;

static void *guarded_alloc(size_t bytes, Allocation *a) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded = (bytes + 15) & ~(size_t)15;
    size_t body = (rounded + page - 1) / page * page;
    size_t mapped = body + page;
    void *base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    mprotect((char *)base + body, page, PROT_NONE);
    char *p = (char *)base + body - rounded;
    memset(p, 0xa5, rounded);  // not zero: cudaMalloc does not clear
    *a = Allocation{base, mapped, bytes};
    return p;
}

// Freed allocations keep their addresses, inaccessible, until QUARANTINE later frees: a use after free faults instead
// of reaching whatever a later allocation put at the same address (which depends on what else the process mapped).
static const size_t QUARANTINE = 8192;
static std::deque<Allocation> quarantined;

static void quarantine(const Allocation &a) {
    madvise(a.base, a.mapped, MADV_DONTNEED);
    mprotect(a.base, a.mapped, PROT_NONE);
    quarantined.push_back(a);
    if (quarantined.size() > QUARANTINE) {
        munmap(quarantined.front().base, quarantined.front().mapped);
        quarantined.pop_front();
    }
}

/** The allocation holding [p, p + bytes), or null. */
static const Allocation *find(std::map<uintptr_t, Allocation> &m, const void *p, size_t bytes) {
    auto it = m.upper_bound((uintptr_t)p);
    if (it == m.begin()) return nullptr;
    --it;
    if ((uintptr_t)p + bytes > it->first + it->second.bytes) return nullptr;
    return &it->second;
}

static bool is_device(const void *p, size_t bytes) {
    std::lock_guard<std::mutex> g(state_lock);
    return find(device_allocations, p, bytes) != nullptr;
}

}  // namespace alma_emu

// ---- the runtime API ------------------------------------------------------------------------------------------------
const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure (alma-emu: see stderr)";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureWrongThread: return "attempt to terminate a thread-local capture sequence from another thread";
    default: return "unrecognized error code";
    }
}

cudaError_t cudaGetLastError() {
    cudaError_t e = sticky != cudaSuccess ? sticky : last_error;
    last_error = cudaSuccess;
    return e;
}

cudaError_t cudaGetDeviceCount(int *count) {
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int device) {
    if (device != 0) return note(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "alma-emu (CPU emulation of an sm_90 device)");
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = 8;
    p->totalGlobalMem = TOTAL;
    p->sharedMemPerBlockOptin = OPTIN_SMEM;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : note(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int *device) {
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device) {
    if (device != 0) return note(cudaErrorInvalidDevice);
    if (attr == cudaDevAttrComputeCapabilityMajor) *value = 9;
    else if (attr == cudaDevAttrComputeCapabilityMinor) *value = 0;
    else if (attr == cudaDevAttrMultiProcessorCount) *value = 8;  // as cudaGetDeviceProperties says
    else if (attr == cudaDevAttrMaxSharedMemoryPerBlockOptin) *value = (int)OPTIN_SMEM;
    else return note(cudaErrorInvalidValue);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
    std::lock_guard<std::mutex> g(state_lock);
    *total_bytes = TOTAL;
    *free_bytes = device_bytes < TOTAL ? TOTAL - device_bytes : 0;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void **p, size_t bytes) {
    *p = nullptr;
    if (refused_during_capture("cudaMalloc")) return cudaErrorStreamCaptureUnsupported;
    if (sticky != cudaSuccess) return sticky;
    std::lock_guard<std::mutex> g(state_lock);
    if (bytes > TOTAL - device_bytes) return note(cudaErrorMemoryAllocation);
    Allocation a;
    void *q = guarded_alloc(bytes == 0 ? 1 : bytes, &a);
    if (q == nullptr) return note(cudaErrorMemoryAllocation);
    device_allocations[(uintptr_t)q] = a;
    device_bytes += bytes;
    *p = q;
    return cudaSuccess;
}

static cudaError_t free_from(std::map<uintptr_t, Allocation> &m, void *p, bool device) {
    if (p == nullptr) return cudaSuccess;
    std::lock_guard<std::mutex> g(state_lock);
    auto it = m.find((uintptr_t)p);
    if (it == m.end()) {
        fprintf(stderr, "alma-emu: %s of %p, which is not an allocation's start\n", device ? "cudaFree" : "cudaFreeHost", p);
        return note(cudaErrorInvalidValue);
    }
    if (device) device_bytes -= it->second.bytes;
    quarantine(it->second);
    m.erase(it);
    return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
    if (refused_during_capture("cudaFree")) return cudaErrorStreamCaptureUnsupported;
    return free_from(device_allocations, p, true);
}

cudaError_t cudaMallocHost(void **p, size_t bytes) {
    *p = nullptr;
    if (refused_during_capture("cudaMallocHost")) return cudaErrorStreamCaptureUnsupported;
    std::lock_guard<std::mutex> g(state_lock);
    Allocation a;
    void *q = guarded_alloc(bytes == 0 ? 1 : bytes, &a);
    if (q == nullptr) return note(cudaErrorMemoryAllocation);
    host_allocations[(uintptr_t)q] = a;
    *p = q;
    return cudaSuccess;
}

cudaError_t cudaFreeHost(void *p) {
    if (refused_during_capture("cudaFreeHost")) return cudaErrorStreamCaptureUnsupported;
    return free_from(host_allocations, p, false);
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t s) {
    if (bytes == 0) return cudaSuccess;
    if (!is_device(p, bytes)) {
        fprintf(stderr, "alma-emu: cudaMemsetAsync of %zu bytes at %p outside every device allocation\n", bytes, p);
        return note(cudaErrorInvalidValue);
    }
    return note(enqueue(s, [p, value, bytes]() { memset(p, value, bytes); }));
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s) {
    if (bytes == 0) return cudaSuccess;
    bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if ((dst_device && !is_device(dst, bytes)) || (src_device && !is_device(src, bytes)) ||
        (!dst_device && is_device(dst, 1)) || (!src_device && is_device(src, 1))) {
        fprintf(stderr, "alma-emu: cudaMemcpyAsync (kind %d) of %zu bytes from %p to %p: a pointer is not where the kind says\n",
                (int)kind, bytes, src, dst);
        return note(cudaErrorInvalidValue);
    }
    return note(enqueue(s, [dst, src, bytes]() { memmove(dst, src, bytes); }));
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned) {
    *s = new alma_emu_stream();
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    if (s == nullptr) return note(cudaErrorInvalidResourceHandle);
    if (s->capturing) return note(cudaErrorIllegalState);
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) {
    if (refused_during_capture("cudaStreamSynchronize")) return cudaErrorStreamCaptureUnsupported;
    return sticky;
}

cudaError_t cudaEventCreate(cudaEvent_t *e) {
    *e = new alma_emu_event();
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    return note(enqueue(s, [e]() {
        e->when = std::chrono::steady_clock::now();
        e->recorded = true;
    }));
}

cudaError_t cudaEventSynchronize(cudaEvent_t) {
    if (refused_during_capture("cudaEventSynchronize")) return cudaErrorStreamCaptureUnsupported;
    return sticky;
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
    if (!start->recorded || !end->recorded) return note(cudaErrorInvalidResourceHandle);
    *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
    return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
    if (s == nullptr || s->capturing || capturing_stream != nullptr) return note(cudaErrorIllegalState);
    s->capturing = true;
    s->invalidated = false;
    s->captured.clear();
    capturing_stream = s;
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *graph) {
    *graph = nullptr;
    if (s == nullptr || !s->capturing) return note(cudaErrorIllegalState);
    if (capturing_stream != s) return note(cudaErrorStreamCaptureWrongThread);
    s->capturing = false;
    capturing_stream = nullptr;
    if (s->invalidated) {
        s->captured.clear();
        return note(cudaErrorStreamCaptureInvalidated);
    }
    alma_emu_graph *g = new alma_emu_graph();
    g->ops.swap(s->captured);
    *graph = g;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t graph, unsigned long long) {
    if (graph == nullptr) return note(cudaErrorInvalidValue);
    alma_emu_graph *e = new alma_emu_graph();
    e->ops = graph->ops;
    *exec = e;
    return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete graph;
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
    if (exec == nullptr) return note(cudaErrorInvalidValue);
    if (s != nullptr && s->capturing) return note(cudaErrorStreamCaptureUnsupported);
    for (const Op &op : exec->ops) {
        op();
        if (sticky != cudaSuccess) return sticky;
    }
    return cudaSuccess;
}

// ---- mma.sync.m16n8k16.row.col.f32 ------------------------------------------------------------------------------------
namespace alma_emu {
static float operand(bool bf16, uint32_t reg, int half) {
    unsigned short bits = (unsigned short)(half ? reg >> 16 : reg & 0xffffu);
    return bf16 ? bf16_to_f32(bits) : f16_to_f32(bits);
}

void mma_16816(bool bf16, float *c, const unsigned *a, const unsigned *b) {
    Scheduler &s = *sched;
    const Thread &t = *current_thread;
    unsigned parity = current_thread->warp_ops++ & 1u, w = t.warp;
    uint32_t *mine = &s.mma[((size_t)parity * s.n_padded + t.linear) * 6];
    for (int i = 0; i < 4; i++) mine[i] = a[i];
    mine[4] = b[0];
    mine[5] = b[1];
    syncwarp();
    double *p = &s.products[((size_t)parity * (s.n_padded / 32) + w) * 128];
    uint64_t &of = s.product_of[(size_t)parity * (s.n_padded / 32) + w];
    if (of != s.releases[w]) {  // the first lane to resume computes the warp's product for all
        of = s.releases[w];
        // PTX fragment layout, group g = lane / 4, t = lane % 4: A register r holds row g + 8 (r & 1), columns
        // 2t + 8 (r >> 1) and the next one; B register r holds rows (k) 2t + 8r and the next one of column g; C element i
        // is row g + 8 (i >> 1), column 2t + (i & 1). The lower half of a register is the lower column (k).
        const uint32_t *regs = &s.mma[((size_t)parity * s.n_padded + w * 32) * 6];
        float A[16][16], B[16][8];
        for (unsigned lane = 0; lane < 32; lane++) {
            unsigned g = lane / 4, tg = lane % 4;
            for (int r = 0; r < 4; r++)
                for (int h = 0; h < 2; h++)
                    A[g + 8 * (r & 1)][2 * tg + 8 * (r >> 1) + h] = operand(bf16, regs[lane * 6 + r], h);
            for (int r = 0; r < 2; r++)
                for (int h = 0; h < 2; h++) B[2 * tg + 8 * r + h][g] = operand(bf16, regs[lane * 6 + 4 + r], h);
        }
        for (int row = 0; row < 16; row++)
            for (int col = 0; col < 8; col++) {
                double sum = 0;
                for (int k = 0; k < 16; k++) sum += (double)A[row][k] * (double)B[k][col];
                p[row * 8 + col] = sum;
            }
    }
    for (int i = 0; i < 4; i++) {
        int row = (int)(t.lane / 4) + 8 * (i >> 1), col = 2 * (int)(t.lane % 4) + (i & 1);
        c[i] = (float)(p[row * 8 + col] + (double)c[i]);
    }
}

// ---- wgmma.mma_async (sm_90a) -----------------------------------------------------------------------------------------
size_t shared_offset(const void *p) {
    const unsigned char *base = current_block->dynamic_smem, *q = (const unsigned char *)p;
    if (q < base || q > base + current_block->dynamic_bytes) {
        fprintf(stderr, "alma-emu: __cvta_generic_to_shared of %p, outside the block's dynamic shared memory (the only "
                        "shared memory whose addresses are emulated)\n", p);
        abort();
    }
    return (size_t)(q - base);
}

// Element (row, k) of an operand in the 128-byte swizzled layout the descriptor describes, the 16-byte chunk bits
// (4-6) of each address XORed with its bits 7-9. K-major: rows of 128 bytes (64 k), 8-row groups SBO apart.
// MN-major (mn_major): 128-byte rows of 64 consecutive `row`s, one per k, 8-k groups SBO apart, 64-row blocks LBO
// apart.
static float wgmma_operand(bool bf16, uint64_t desc, int row, int k, bool mn_major = false) {
    size_t start = (size_t)(desc & 0x3FFF) << 4, stride = (size_t)((desc >> 32) & 0x3FFF) << 4;
    size_t lead = (size_t)((desc >> 16) & 0x3FFF) << 4;
    if (desc >> 62 != 1) {
        fprintf(stderr, "alma-emu: wgmma descriptor %#llx: only the 128-byte swizzle is emulated\n",
                (unsigned long long)desc);
        abort();
    }
    size_t linear = mn_major ? start + (size_t)(row >> 6) * lead + (size_t)(k >> 3) * stride + (size_t)(k & 7) * 128 +
                                   (size_t)(row & 63) * 2
                             : start + (size_t)(row >> 3) * stride + (size_t)(row & 7) * 128 + (size_t)k * 2;
    size_t addr = linear ^ (((linear >> 7) & 7) << 4);
    if (addr + 2 > current_block->dynamic_bytes) {
        fprintf(stderr, "alma-emu: wgmma operand element at shared offset %zu, past the %zu bytes of the block\n", addr,
                current_block->dynamic_bytes);
        abort();
    }
    unsigned short bits;
    memcpy(&bits, current_block->dynamic_smem + addr, 2);
    return bf16 ? bf16_to_f32(bits) : f16_to_f32(bits);
}

// N 8..256 in steps of 8, issued by a thread whose warpgroup (four warps from a multiple of four) is whole in the
// block; a block may have further warps that issue no wgmma (a producer warp).
static void check_wgmma_shape(int n) {
    unsigned threads = current_block->dim.x * current_block->dim.y * current_block->dim.z;
    unsigned group_end = (current_thread->linear / 128 + 1) * 128;
    if (n < 8 || n > 256 || n % 8 != 0 || group_end > threads) {
        fprintf(stderr, "alma-emu: wgmma m64n%dk16 by thread %u of a block of %u threads (N 8..256 in steps of 8, "
                        "a whole warpgroup)\n", n, current_thread->linear, threads);
        abort();
    }
}

void wgmma_m64k16(bool bf16, int n, float *d, uint64_t desc_a, uint64_t desc_b) {
    check_wgmma_shape(n);
    Fiber &f = *sched->running;
    f.wgmma.push_back(WgmmaOp{bf16, n, d, desc_a, desc_b, f.wgmma_groups, false, {}});
}

void wgmma_m64k16_rs(bool bf16, int n, float *d, const unsigned *a, uint64_t desc_b, bool trans_b) {
    check_wgmma_shape(n);
    Scheduler &s = *sched;
    Thread &t = *current_thread;
    unsigned parity = t.warp_ops++ & 1u;
    uint32_t *mine = &s.mma[((size_t)parity * s.n_padded + t.linear) * 6];
    for (int i = 0; i < 4; i++) mine[i] = a[i];
    syncwarp();
    const uint32_t *warp_regs = &s.mma[((size_t)parity * s.n_padded + t.warp * 32) * 6];
    std::vector<uint32_t> regs(128);
    for (int lane = 0; lane < 32; lane++)
        for (int i = 0; i < 4; i++) regs[lane * 4 + i] = warp_regs[lane * 6 + i];
    Fiber &f = *sched->running;
    f.wgmma.push_back(WgmmaOp{bf16, n, d, 0, desc_b, f.wgmma_groups, trans_b, std::move(regs)});
}

void wgmma_commit() { sched->running->wgmma_groups++; }

void wgmma_wait(int pending) {
    Fiber &f = *sched->running;
    unsigned t = f.t.linear % 128, w = t / 32, lane = t % 32;
    std::vector<WgmmaOp> left;
    for (const WgmmaOp &op : f.wgmma) {
        if (op.group + (unsigned)pending >= f.wgmma_groups) {  // uncommitted or among the newest `pending` groups
            left.push_back(op);
            continue;
        }
        // The accumulator fragment: register i is row 16w + lane / 4 + 8 ((i / 2) % 2), column 8 (i / 4) + 2 (lane % 4)
        // + i % 2.
        for (int i = 0; i < op.n / 2; i++) {
            int row = (int)(16 * w + lane / 4) + 8 * ((i >> 1) & 1), col = 8 * (i >> 2) + 2 * (int)(lane & 3) + (i & 1);
            double sum = 0;
            for (int k = 0; k < 16; k++) {
                float a;
                if (op.a_regs.empty()) {
                    a = wgmma_operand(op.bf16, op.desc_a, row, k);
                } else {  // the m16n8k16 A fragment of the row's warp
                    int r = row % 16, lane = (r % 8) * 4 + (k % 8) / 2, reg = (r / 8) + 2 * (k / 8);
                    a = operand(op.bf16, op.a_regs[lane * 4 + reg], k % 2);
                }
                sum += (double)a * wgmma_operand(op.bf16, op.desc_b, col, k, op.trans_b);
            }
            op.d[i] = (float)(op.d[i] + sum);
        }
    }
    f.wgmma.swap(left);
}

// ---- mbarriers and TMA (sm_90) ------------------------------------------------------------------------------------
static Mbarrier &mbarrier_at(size_t offset, const char *what) {
    auto it = sched->mbarriers.find(offset);
    if (it == sched->mbarriers.end()) {
        fprintf(stderr, "alma-emu: %s on shared offset %zu, where no mbarrier was initialised in this block\n", what,
                offset);
        abort();
    }
    return it->second;
}

void mbarrier_init(size_t offset, unsigned count) {
    if (offset % 8 != 0 || offset + 8 > current_block->dynamic_bytes || count == 0) {
        fprintf(stderr, "alma-emu: mbarrier.init at shared offset %zu with count %u (8-byte aligned, inside the "
                        "block's %zu bytes, count >= 1)\n", offset, count, current_block->dynamic_bytes);
        abort();
    }
    Mbarrier &m = sched->mbarriers[offset];
    m = Mbarrier();
    m.count = m.pending = count;
}

/** Ends the current phase of m if it is complete: the next phase expects every arrival again; wakes the waiters. */
static void mbarrier_check(Mbarrier &m) {
    if (m.pending != 0 || m.tx != 0) return;
    m.phase++;
    m.pending = m.count;
    Scheduler &s = *sched;
    for (unsigned i : m.waiters) {
        s.fibers[i].state = READY;
        s.ready.push_back(i);
    }
    m.waiters.clear();
}

void mbarrier_arrive(size_t offset, unsigned expect_tx) {
    Mbarrier &m = mbarrier_at(offset, "mbarrier.arrive");
    if (m.pending == 0) {
        fprintf(stderr, "alma-emu: mbarrier at shared offset %zu: more arrivals than its count %u in a phase\n",
                offset, m.count);
        abort();
    }
    m.tx += expect_tx;
    m.pending--;
    mbarrier_check(m);
}

void mbarrier_wait(size_t offset, unsigned parity) {
    Scheduler &s = *sched;
    // The phase of parity `parity` is complete once the current phase has the other parity.
    while ((mbarrier_at(offset, "mbarrier.try_wait").phase & 1u) == (parity & 1u)) {
        Fiber *f = s.running;
        mbarrier_at(offset, "mbarrier.try_wait").waiters.push_back(f->t.linear);
        f->state = AT_MBARRIER;
        to_scheduler();
    }
}

/** An asynchronous copy's `bytes` arriving at the mbarrier at `mbar` (`what`: the copy, for the error message). */
static void complete_tx(size_t mbar, size_t bytes, const char *what) {
    Mbarrier &m = mbarrier_at(mbar, what);
    m.tx -= (long long)bytes;
    mbarrier_check(m);
}

// The emulator's tensor map, in the 128 bytes of a CUtensorMap.
struct TensorMap2d {
    const unsigned char *base;
    uint64_t inner, rows, pitch;
    unsigned box_inner, box_rows;
    uint64_t magic;
};
static const uint64_t TENSOR_MAP_MAGIC = 0x616c6d61746d6170ull;  // "almatmap"
static_assert(sizeof(TensorMap2d) <= 128, "fits in a CUtensorMap");

cudaError_t encode_tensor_map_2d(void *map, const void *base, uint64_t inner, uint64_t rows, uint64_t pitch,
                                 unsigned box_inner, unsigned box_rows) {
    const char *why = nullptr;
    if (((uintptr_t)map & 63) != 0) why = "the map is not 64-byte aligned";
    else if (((uintptr_t)base & 15) != 0) why = "the base address is not 16-byte aligned";
    else if (inner == 0 || rows == 0 || inner > ((uint64_t)1 << 32) || rows > ((uint64_t)1 << 32))
        why = "a dimension is 0 or over 2^32";
    else if (pitch % 16 != 0 || pitch < inner * 2 || pitch >= ((uint64_t)1 << 40))
        why = "the row pitch is not a multiple of 16 bytes covering a row";
    else if (box_rows == 0 || box_rows > 256) why = "box rows not in 1..256";
    else if (box_inner * 2 != 128) why = "the emulator models boxes of 128-byte rows (64 16-bit elements) only";
    if (why != nullptr) {
        fprintf(stderr, "alma-emu: cuTensorMapEncodeTiled refused: %s\n", why);
        return note(cudaErrorInvalidValue);
    }
    TensorMap2d t{(const unsigned char *)base, inner, rows, pitch, box_inner, box_rows, TENSOR_MAP_MAGIC};
    memset(map, 0, 128);
    memcpy(map, &t, sizeof t);
    return cudaSuccess;
}

void tma_load_2d(size_t dst, const void *map, int c0, int c1, size_t mbar) {
    TensorMap2d t;
    memcpy(&t, map, sizeof t);
    if (t.magic != TENSOR_MAP_MAGIC) {
        fprintf(stderr, "alma-emu: cp.async.bulk.tensor with a tensor map that encode_tensor_map_2d did not make\n");
        abort();
    }
    size_t bytes = (size_t)t.box_rows * 128;
    if (dst % 1024 != 0 || dst + bytes > current_block->dynamic_bytes) {
        fprintf(stderr, "alma-emu: TMA box of %zu bytes to shared offset %zu (1024-byte aligned for the 128-byte "
                        "swizzle, inside the block's %zu bytes)\n", bytes, dst, current_block->dynamic_bytes);
        abort();
    }
    unsigned char *smem = current_block->dynamic_smem;
    for (unsigned r = 0; r < t.box_rows; r++)
        for (unsigned chunk = 0; chunk < 8; chunk++) {
            size_t linear = dst + (size_t)r * 128 + chunk * 16, at = linear ^ (((linear >> 7) & 7) << 4);
            long long row = (long long)c1 + r;
            for (unsigned e = 0; e < 8; e++) {
                long long col = (long long)c0 + chunk * 8 + e;
                unsigned short v = 0;
                if (row >= 0 && col >= 0 && (uint64_t)row < t.rows && (uint64_t)col < t.inner)
                    memcpy(&v, t.base + (uint64_t)row * t.pitch + (uint64_t)col * 2, 2);
                memcpy(smem + at + e * 2, &v, 2);
            }
        }
    complete_tx(mbar, bytes, "cp.async.bulk.tensor's mbarrier");
}

void bulk_load(size_t dst, const void *src, unsigned bytes, size_t mbar) {
    if (dst % 16 != 0 || ((uintptr_t)src & 15) != 0 || bytes % 16 != 0 || bytes == 0 ||
        dst + bytes > current_block->dynamic_bytes) {
        fprintf(stderr, "alma-emu: cp.async.bulk of %u bytes from %p to shared offset %zu (16-byte aligned ends, a "
                        "multiple of 16 bytes, inside the block's %zu bytes)\n", bytes, src, dst,
                current_block->dynamic_bytes);
        abort();
    }
    memcpy(current_block->dynamic_smem + dst, src, bytes);
    complete_tx(mbar, bytes, "cp.async.bulk's mbarrier");
}

}  // namespace alma_emu

// Host wrappers of the kernels read the launch count only through this symbol (tests of the emulator itself).
extern "C" unsigned long long alma_emu_launches() { return launches; }
