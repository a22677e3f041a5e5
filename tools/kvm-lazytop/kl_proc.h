/* SPDX-License-Identifier: GPL-2.0-only */
/* kl_proc.h - /proc helpers: VM detection, names. */
#ifndef __KL_PROC_H
#define __KL_PROC_H

#include <stddef.h>
#include <stdint.h>

/* 1 process exists (zombies included), 0 not. */
int kl_proc_exists(uint32_t pid);
/* 1 process exists and is not a zombie, 0 otherwise. */
int kl_proc_alive(uint32_t pid);
/* 1 thread tid of process pid is alive (not a zombie), 0 otherwise. */
int kl_thread_alive(uint32_t pid, uint32_t tid);
/*
 * The process (thread group) id of pid, which may be any thread's id
 * (/proc/PID/status Tgid); -errno.
 */
int kl_proc_tgid(uint32_t pid);
/*
 * 1 holds an anon_inode:kvm-vm fd, 0 not, -errno if /proc/PID/fd cannot be
 * read: -EACCES/-EPERM when this process lacks ptrace-read access to pid
 * (another uid, or pid holds capabilities this process does not: then
 * only CAP_SYS_PTRACE lets it look).
 */
int kl_proc_is_vm(uint32_t pid);
/* /proc/PID/comm without newline; -errno. */
int kl_proc_comm(uint32_t pid, char *buf, size_t len);
/* qemu "-name NAME" / "-name guest=NAME,..." from /proc/PID/cmdline; -ENOENT if none. */
int kl_proc_qemu_name(uint32_t pid, char *buf, size_t len);
/*
 * net.core.bpf_jit_enable read from path (NULL: /proc/sys/net/core/
 * bpf_jit_enable): 0 interpreter, 1 JIT, 2 JIT with debug output;
 * -errno if unreadable or not one of those.
 */
int kl_bpf_jit_mode(const char *path);
/* Extract the VM name from a NUL-separated cmdline buffer (pure). */
int kl_cmdline_vm_name(const char *cmdline, size_t len, char *buf, size_t blen);
/*
 * VMs (processes with an anon_inode:kvm-vm fd) whose qemu -name or comm is
 * name (NULL: every VM).  Fills up to max pids, returns the number of matches (may exceed
 * max) or -errno.
 */
int kl_find_vms_by_name(const char *name, uint32_t *pids, int max);
/*
 * Like kl_find_vms_by_name() for the processes named name whose fd table
 * this process may not read (kl_proc_is_vm() = -EACCES/-EPERM): maybe VMs.
 */
int kl_find_unverified_by_name(const char *name, uint32_t *pids, int max);

#endif
