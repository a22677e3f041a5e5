// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kl_trace.bpf.c - benchmark-only per-event trace (bench/README.md, part 5).
 *
 * Records every KVM_RUN ioctl duration and every off-CPU interval inside
 * KVM_RUN of one tgid into a ring buffer, with the same interval
 * definitions as kvm_lazytop.bpf.c (kl_on_run_enter/exit, kl_on_switch):
 *   kvm_run: sys_enter_ioctl(KVM_RUN) -> sys_exit_ioctl of the same thread
 *   offcpu:  switch-out of a thread inside KVM_RUN -> its next switch-in
 *            while still inside KVM_RUN
 * so userspace can compute exact percentiles next to kvm-lazytop's
 * log-linear histograms of the very same events.
 *
 * With `kl-bench trace --load [--func F]` only the fentry/fexit pair on
 * kvm_arch_vcpu_load (or F, same arguments) is loaded instead
 * (bench/kernel/run-reload.sh):
 *   vcpu_load: fentry -> fexit of the function in TGID
 * The window holds no program: fentry takes the time as its last step,
 * fexit as its first, and neither the series' vcpu_load tracepoint nor a
 * tracefs event is enabled by that run.
 */
#include "kl_core.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 target_tgid = 0;
/* --load: no reader wake-up per event (it would preempt the vCPU thread) */
const volatile bool quiet_submit = false;

enum { KLT_RUN = 1, KLT_OFFCPU = 2, KLT_LOAD = 3 };

struct klt_event {
	__u32 kind;
	__u32 tid;
	__u64 dur_ns;
};

struct klt_thread {
	__u64 run_start_ns;
	__u64 off_start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct klt_thread);
} klt_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} klt_events SEC(".maps");

/* [0] events lost (ring buffer full), [1] threads map full */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} klt_lost SEC(".maps");

static __always_inline void klt_lose(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&klt_lost, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void klt_emit(__u32 kind, __u32 tid, __u64 dur)
{
	struct klt_event *e = bpf_ringbuf_reserve(&klt_events, sizeof(*e), 0);

	if (!e) {
		klt_lose(0);
		return;
	}
	e->kind = kind;
	e->tid = tid;
	e->dur_ns = dur;
	bpf_ringbuf_submit(e, quiet_submit ? BPF_RB_NO_WAKEUP : 0);
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int klt_sys_enter_ioctl(struct kl_sys_enter_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct klt_thread t = {};

	if ((id >> 32) != target_tgid || (__u32)ctx->args[1] != KL_KVM_RUN)
		return 0;
	t.run_start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&klt_threads, &tid, &t, BPF_ANY))
		klt_lose(1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int klt_sys_exit_ioctl(struct kl_sys_exit_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id;
	struct klt_thread *t;

	if ((id >> 32) != target_tgid)
		return 0;
	t = bpf_map_lookup_elem(&klt_threads, &tid);
	if (!t || !t->run_start_ns)
		return 0;
	if (now >= t->run_start_ns)
		klt_emit(KLT_RUN, tid, now - t->run_start_ns);
	t->run_start_ns = 0;
	t->off_start_ns = 0;
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(klt_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 prev_tid = (__u32)id, next_tid;
	struct klt_thread *t;

	if ((id >> 32) == target_tgid) {
		t = bpf_map_lookup_elem(&klt_threads, &prev_tid);
		if (t && t->run_start_ns)
			t->off_start_ns = now;
	}
	if ((__u32)BPF_CORE_READ(next, tgid) != target_tgid)
		return 0;
	next_tid = BPF_CORE_READ(next, pid);
	t = bpf_map_lookup_elem(&klt_threads, &next_tid);
	if (t && t->run_start_ns && t->off_start_ns) {
		if (now >= t->off_start_ns)
			klt_emit(KLT_OFFCPU, next_tid, now - t->off_start_ns);
		t->off_start_ns = 0;
	}
	return 0;
}

/*
 * kvm_arch_vcpu_load() runs with preemption disabled (vcpu_load() and the
 * sched_in preempt notifier), so a per-CPU start time cannot be mixed up
 * between threads.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} klt_load_start SEC(".maps");

SEC("fentry/kvm_arch_vcpu_load")
int BPF_PROG(klt_load_enter, struct kvm_vcpu *vcpu, int cpu)
{
	__u32 zero = 0;
	__u64 *start;

	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	start = bpf_map_lookup_elem(&klt_load_start, &zero);
	if (start)
		*start = bpf_ktime_get_ns();
	return 0;
}

SEC("fexit/kvm_arch_vcpu_load")
int BPF_PROG(klt_load_exit, struct kvm_vcpu *vcpu, int cpu)
{
	__u64 now = bpf_ktime_get_ns(), id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	__u64 *start;

	if ((id >> 32) != target_tgid)
		return 0;
	start = bpf_map_lookup_elem(&klt_load_start, &zero);
	if (!start || !*start)
		return 0;
	if (now >= *start)
		klt_emit(KLT_LOAD, (__u32)id, now - *start);
	*start = 0;
	return 0;
}
