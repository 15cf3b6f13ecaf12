/*
 * wippy/process.h: the process API inside a guest, for C core modules (SPEC section 7).
 *
 * The functions are imported from the WebAssembly module "wippy:process"; the entry
 * must grant them with `imports: [wippy:process]` (a module importing them without the
 * grant is refused at spawn). Components import the same API as the WIT interface
 * wippy:process/process@0.1.0 (wit/process.wit).
 *
 * Memory convention (wasm32):
 * - Every string or byte range the guest passes is a pointer into its exported memory
 *   and a length in bytes. Strings are UTF-8 and need no terminating NUL.
 * - Every function that hands data back (a pid, an event's fields) copies at most `cap`
 *   bytes into the guest's buffer, adds no NUL, and returns the full length. A return
 *   value above `cap` means the copy was cut short: call again with a bigger buffer.
 * - Negative return values are WIPPY_ERR_* codes; wippy_last_error() gives the message
 *   of the last refused call (it names the entry of a refused spawn).
 *
 * Receiving: wippy_receive() waits for the next event in arrival order and returns its
 * kind; the event's fields are then read with wippy_event_*(), until the next receive.
 * The wait suspends only this process (no CPU, no fuel); `max_execution_ms` counts it.
 *
 * Payload formats: WIPPY_BYTES (raw bytes) or WIPPY_JSON (the UTF-8 text of one JSON
 * value). A TypeScript sender's Uint8Array arrives as bytes, any other value as JSON.
 * An EXIT carries WIPPY_JSON: the value, or {"kind": ..., "message": ...} when
 * wippy_event_is_error() is 1. LINK_DOWN carries the error the same way; CANCEL its
 * reason as text (WIPPY_BYTES).
 */
#ifndef WIPPY_PROCESS_H
#define WIPPY_PROCESS_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WIPPY_IMPORT(name) __attribute__((import_module("wippy:process"), import_name(name)))

/* payload formats */
#define WIPPY_BYTES 0
#define WIPPY_JSON 1

/* event kinds, returned by wippy_receive */
#define WIPPY_TIMEOUT 0   /* nothing arrived in time */
#define WIPPY_MESSAGE 1   /* from, topic, format, payload */
#define WIPPY_EXIT 2      /* a monitored process ended: from, payload (value or error, JSON) */
#define WIPPY_LINK_DOWN 3 /* a linked process failed (trap links is on): from, payload (error, JSON) */
#define WIPPY_CANCEL 4    /* asked to stop: from, payload (the reason, text) */

/* wippy_receive timeouts */
#define WIPPY_FOREVER (-1)
#define WIPPY_POLL 0

/* errors (negative return values) */
#define WIPPY_ERR_NOPROC (-1)       /* no such process (link to a pid that is gone) */
#define WIPPY_ERR_MAILBOX_FULL (-2) /* the target's mailbox is full; nothing was enqueued */
#define WIPPY_ERR_DENIED (-3)       /* spawn of an entry not listed in process.spawn */
#define WIPPY_ERR_INVALID (-4)      /* reserved topic, bad format, JSON that does not parse */
#define WIPPY_ERR_SPAWN (-5)        /* no such entry or host, host full, runtime closing */

/* A pid fits in this many bytes (a buffer this size never needs a second call). */
#define WIPPY_PID_MAX 128

/* This process's pid; returns its length. */
int32_t wippy_self(char *buf, uint32_t cap) WIPPY_IMPORT("self");

/* 1: the message is in a live mailbox; 0: `to` is gone (nothing delivered); <0: error.
   Topics EXIT, LINK_DOWN, CANCEL, MESSAGE, * and xstate.* are reserved (WIPPY_ERR_INVALID). */
int32_t wippy_send(const char *to, uint32_t to_len, const char *topic, uint32_t topic_len,
                   int32_t format, const void *payload, uint32_t payload_len) WIPPY_IMPORT("send");

/* Waits for the next event: timeout_ms < 0 waits for ever, 0 polls. Returns its kind
   (WIPPY_TIMEOUT when nothing arrived in time). */
int32_t wippy_receive(int32_t timeout_ms) WIPPY_IMPORT("receive");

/* The fields of the event the last wippy_receive returned. */
int32_t wippy_event_from(char *buf, uint32_t cap) WIPPY_IMPORT("event-from");
int32_t wippy_event_topic(char *buf, uint32_t cap) WIPPY_IMPORT("event-topic");
int32_t wippy_event_format(void) WIPPY_IMPORT("event-format");
int32_t wippy_event_payload(void *buf, uint32_t cap) WIPPY_IMPORT("event-payload");
/* 1 for an EXIT error or a LINK_DOWN (the payload is {"kind", "message"}), else 0. */
int32_t wippy_event_is_error(void) WIPPY_IMPORT("event-is-error");

/* Starts `entry` on process host `host` (length 0: this process's own host) with the
   arguments in `args_json`, the JSON text of an array ("[6, 7]"). Returns the new pid's
   length (copied into pid_buf), or an error. */
int32_t wippy_spawn(const char *entry, uint32_t entry_len, const char *host, uint32_t host_len,
                    const char *args_json, uint32_t args_len, char *pid_buf, uint32_t pid_cap)
    WIPPY_IMPORT("spawn");
/* As wippy_spawn; this process gets the new one's EXIT. */
int32_t wippy_spawn_monitored(const char *entry, uint32_t entry_len, const char *host, uint32_t host_len,
                              const char *args_json, uint32_t args_len, char *pid_buf, uint32_t pid_cap)
    WIPPY_IMPORT("spawn-monitored");
/* As wippy_spawn; the two processes are linked. */
int32_t wippy_spawn_linked(const char *entry, uint32_t entry_len, const char *host, uint32_t host_len,
                           const char *args_json, uint32_t args_len, char *pid_buf, uint32_t pid_cap)
    WIPPY_IMPORT("spawn-linked");
int32_t wippy_spawn_linked_monitored(const char *entry, uint32_t entry_len, const char *host, uint32_t host_len,
                                     const char *args_json, uint32_t args_len, char *pid_buf, uint32_t pid_cap)
    WIPPY_IMPORT("spawn-linked-monitored");

/* 0 or an error. monitor of a pid that is gone delivers an EXIT (kind noproc) at once;
   link to a pid that is gone is WIPPY_ERR_NOPROC. */
int32_t wippy_monitor(const char *pid, uint32_t pid_len) WIPPY_IMPORT("monitor");
int32_t wippy_unmonitor(const char *pid, uint32_t pid_len) WIPPY_IMPORT("unmonitor");
int32_t wippy_link(const char *pid, uint32_t pid_len) WIPPY_IMPORT("link");
int32_t wippy_unlink(const char *pid, uint32_t pid_len) WIPPY_IMPORT("unlink");
/* Graceful: CANCEL first, killed after the runtime's cancel timeout (5 s). */
int32_t wippy_cancel(const char *pid, uint32_t pid_len, const char *reason, uint32_t reason_len)
    WIPPY_IMPORT("cancel");
/* Forceful: the process ends at once with kind killed. */
int32_t wippy_terminate(const char *pid, uint32_t pid_len) WIPPY_IMPORT("terminate");

/* 1: a linked process's failure arrives as WIPPY_LINK_DOWN instead of ending this one. */
void wippy_set_trap_links(int32_t trap) WIPPY_IMPORT("set-trap-links");

/* The value this process ends with on a normal return (or WASI exit status 0), instead
   of the method's return value; WIPPY_JSON text must parse. 0 or an error. */
int32_t wippy_set_result(int32_t format, const void *payload, uint32_t payload_len) WIPPY_IMPORT("set-result");

/* The message of the last refused call; returns its length. */
int32_t wippy_last_error(char *buf, uint32_t cap) WIPPY_IMPORT("last-error");

/* Conveniences for NUL-terminated strings. */
static inline int32_t wippy_send_text(const char *to, const char *topic, int32_t format, const char *payload) {
  return wippy_send(to, (uint32_t)strlen(to), topic, (uint32_t)strlen(topic), format, payload, (uint32_t)strlen(payload));
}

/* Spawns with monitor; pid_buf gets a NUL-terminated pid (it needs WIPPY_PID_MAX bytes). */
static inline int32_t wippy_spawn_monitored_text(const char *entry, const char *host, const char *args_json, char *pid_buf) {
  int32_t n = wippy_spawn_monitored(entry, (uint32_t)strlen(entry), host, (uint32_t)strlen(host), args_json,
                                    (uint32_t)strlen(args_json), pid_buf, WIPPY_PID_MAX - 1);
  if (n >= 0) pid_buf[n < WIPPY_PID_MAX - 1 ? n : WIPPY_PID_MAX - 1] = 0;
  return n;
}

/* The sender of the current event as a NUL-terminated string (buf: WIPPY_PID_MAX bytes). */
static inline int32_t wippy_event_from_text(char *buf) {
  int32_t n = wippy_event_from(buf, WIPPY_PID_MAX - 1);
  buf[n < WIPPY_PID_MAX - 1 ? n : WIPPY_PID_MAX - 1] = 0;
  return n;
}

#ifdef __cplusplus
}
#endif

#endif /* WIPPY_PROCESS_H */
