// Batched UDP I/O for podswarm-dns: recvmmsg up to BATCH datagrams per
// wake-up of the event loop, one call into JavaScript per batch, sendmmsg for
// the replies JavaScript wrote during that call. node:dgram makes one system
// call and one JavaScript call per datagram each way; that, not the DNS code,
// was the CPU left between podswarm-dns and knot (issue 19).
//
// Memory shared with JavaScript (all allocated once, at open):
//   recv   BATCH slots of SLOT bytes: datagram i at i*SLOT
//   meta   BATCH records of META bytes, datagram i at i*META:
//            u16 length, u16 source port, u8 flags (FLAG_TRUNCATED),
//            u8 address text length, source address text (inet_ntop)
//   send   BATCH slots of SLOT bytes: reply k at k*SLOT
//   smeta  BATCH records of 4 bytes: u16 datagram index the reply answers,
//          u16 reply length
// Integers are little-endian (this file assumes it: see the check below).
// JavaScript returns the number of replies; every index and length it wrote
// is checked here before the kernel sees it, so a bug on that side can send
// a wrong reply but never read or write outside these buffers.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the shared buffers are read as little-endian by JavaScript"
#endif

#define BATCH 64
#define SLOT 4096
#define META 64
#define SMETA 4
#define FLAG_TRUNCATED 1
// Batches drained per wake-up before the loop gets a turn (timers, TCP, IPC).
#define ROUNDS 8

typedef struct {
  uv_poll_t poll;
  int fd;
  int family;
  int closing;
  // Inside napi_make_callback: a close asked for then is finished after it returns.
  int in_batch;
  // Freed when both the JavaScript handle is finalized and uv has closed the poll.
  int owners;
  napi_env env;
  napi_ref on_batch;
  // close()'s callback, called once the descriptor is closed (the port is free again).
  napi_ref on_closed;
  napi_ref buffers[4];
  napi_async_context async;
  uint8_t *recv, *meta, *send, *smeta;
  struct mmsghdr rmsgs[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage rnames[BATCH];
  struct mmsghdr smsgs[BATCH];
  struct iovec siov[BATCH];
} Sock;

// For /metrics, over every socket this process opened (so a reload does not reset them):
// datagrams dropped for not fitting a slot, replies the kernel refused.
static double truncated_total, send_failed_total;

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error((env), NULL, "udp-batch: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

/** Throws as node:dgram would: message `bind EADDRINUSE 127.0.0.1:53`, code `EADDRINUSE`. */
static napi_value throw_errno(napi_env env, const char *syscall, int err, const char *address, unsigned port) {
  const char *name = uv_err_name(uv_translate_sys_error(err));
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s %s:%u", syscall, name, address, port);
  napi_value code, text, error;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_set_named_property(env, error, "code", code);
  napi_throw(env, error);
  return NULL;
}

static void release(Sock *s) {
  if (--s->owners == 0) free(s);
}

static void on_closed(uv_handle_t *h) {
  Sock *s = h->data;
  close(s->fd);
  if (s->on_closed) {
    napi_env env = s->env;
    napi_handle_scope scope;
    napi_value cb, global, result;
    if (napi_open_handle_scope(env, &scope) == napi_ok) {
      if (napi_get_reference_value(env, s->on_closed, &cb) == napi_ok && cb && napi_get_global(env, &global) == napi_ok &&
          napi_make_callback(env, s->async, global, cb, 0, NULL, &result) == napi_pending_exception) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
      }
      napi_close_handle_scope(env, scope);
    }
    napi_delete_reference(env, s->on_closed);
  }
  napi_async_destroy(s->env, s->async);
  release(s);
}

/** Drops the references that keep the buffers and callback alive, and closes the poll handle. */
static void finish_close(napi_env env, Sock *s) {
  for (int i = 0; i < 4; i++) napi_delete_reference(env, s->buffers[i]);
  napi_delete_reference(env, s->on_batch);
  s->recv = s->meta = s->send = s->smeta = NULL;
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

/** Stops receiving; the rest waits until JavaScript has returned when asked from inside a batch. */
static void begin_close(napi_env env, Sock *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  if (!s->in_batch) finish_close(env, s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Sock *s = data;
  begin_close(env, s);
  release(s);
}

static void put_u16(uint8_t *p, unsigned v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}

static unsigned get_u16(const uint8_t *p) {
  return p[0] | (p[1] << 8);
}

/**
 * `a.b.c.d` into `out` (room for 16), as inet_ntop would write it: glibc's
 * inet_ntop formats IPv4 with sprintf, which cost more per datagram than
 * everything else this file does (perf, issue 19). Returns the length.
 */
static size_t format_ipv4(const uint8_t *a, char *out) {
  size_t n = 0;
  for (int i = 0; i < 4; i++) {
    unsigned v = a[i];
    if (v >= 100) out[n++] = (char)('0' + v / 100);
    if (v >= 10) out[n++] = (char)('0' + (v / 10) % 10);
    out[n++] = (char)('0' + v % 10);
    if (i < 3) out[n++] = '.';
  }
  out[n] = '\0';
  return n;
}

/** Fills datagram i's meta record from what recvmmsg returned. */
static void describe(Sock *s, int i) {
  uint8_t *m = s->meta + (size_t)i * META;
  const struct sockaddr_storage *from = &s->rnames[i];
  socklen_t namelen = s->rmsgs[i].msg_hdr.msg_namelen;
  unsigned port = 0;
  char text[INET6_ADDRSTRLEN] = "";
  if (from->ss_family == AF_INET && namelen >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    port = ntohs(a->sin_port);
    format_ipv4((const uint8_t *)&a->sin_addr, text);
  } else if (from->ss_family == AF_INET6 && namelen >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    port = ntohs(a->sin6_port);
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  }
  size_t tlen = strnlen(text, sizeof text);
  unsigned len = s->rmsgs[i].msg_len;
  int truncated = (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || len > SLOT;
  if (truncated) truncated_total++;
  put_u16(m, truncated ? 0 : len);
  put_u16(m + 2, port);
  m[4] = truncated ? FLAG_TRUNCATED : 0;
  m[5] = (uint8_t)tlen;
  memcpy(m + 6, text, tlen);
}

/** Sends the replies JavaScript wrote for a batch of `received` datagrams; drops them when the send buffer is full. */
static void send_replies(Sock *s, unsigned replies, unsigned received) {
  if (replies > BATCH) replies = BATCH;
  unsigned m = 0;
  for (unsigned k = 0; k < replies; k++) {
    const uint8_t *r = s->smeta + (size_t)k * SMETA;
    unsigned src = get_u16(r), len = get_u16(r + 2);
    if (src >= received || len == 0 || len > SLOT) continue;
    s->siov[m].iov_base = s->send + (size_t)k * SLOT;
    s->siov[m].iov_len = len;
    struct msghdr *h = &s->smsgs[m].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &s->rnames[src];
    h->msg_namelen = s->rmsgs[src].msg_hdr.msg_namelen;
    h->msg_iov = &s->siov[m];
    h->msg_iovlen = 1;
    m++;
  }
  unsigned off = 0;
  while (off < m) {
    int n = sendmmsg(s->fd, s->smsgs + off, m - off, MSG_DONTWAIT);
    if (n > 0) {
      off += (unsigned)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      // A full send buffer: these replies are lost, as a DNS server under overload loses them; clients retry.
      send_failed_total += m - off;
      return;
    } else {
      // This one destination failed (unreachable, filtered): skip it, send the rest.
      send_failed_total++;
      off++;
    }
  }
}

/** Calls JavaScript with the batch size; returns how many replies it wrote, or -1 when it threw. */
static int call_batch(Sock *s, unsigned n) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value cb, global, arg, result;
  int replies = -1;
  if (napi_get_reference_value(env, s->on_batch, &cb) == napi_ok && napi_get_global(env, &global) == napi_ok &&
      napi_create_uint32(env, n, &arg) == napi_ok) {
    napi_status st = napi_make_callback(env, s->async, global, cb, 1, &arg, &result);
    uint32_t v = 0;
    if (st == napi_ok) {
      replies = napi_get_value_uint32(env, result, &v) == napi_ok ? (int)(v > BATCH ? BATCH : v) : 0;
    } else {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
      }
    }
  }
  napi_close_handle_scope(env, scope);
  return replies;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  Sock *s = h->data;
  if (s->closing || status < 0) return;
  for (int round = 0; round < ROUNDS && !s->closing; round++) {
    for (int i = 0; i < BATCH; i++) {
      s->riov[i].iov_base = s->recv + (size_t)i * SLOT;
      s->riov[i].iov_len = SLOT;
      struct msghdr *mh = &s->rmsgs[i].msg_hdr;
      memset(mh, 0, sizeof *mh);
      mh->msg_name = &s->rnames[i];
      mh->msg_namelen = sizeof s->rnames[i];
      mh->msg_iov = &s->riov[i];
      mh->msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, s->rmsgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // EINTR, or an error queued by an ICMP message: the next datagram may be fine.
      continue;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) describe(s, i);
    s->in_batch = 1;
    int replies = call_batch(s, (unsigned)n);
    s->in_batch = 0;
    // JavaScript closed the socket (a reload, a shutdown): nothing more is sent.
    if (s->closing) {
      finish_close(s->env, s);
      return;
    }
    if (replies > 0) send_replies(s, (unsigned)replies, (unsigned)n);
    if (n < BATCH) return;
  }
}

static Sock *unwrap(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "udp-batch: not a socket handle");
    return NULL;
  }
  return data;
}

static int parse_address(int family, const char *text, unsigned port, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    *len = sizeof *a;
    return inet_pton(AF_INET, text, &a->sin_addr) == 1;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  *len = sizeof *a;
  return inet_pton(AF_INET6, text, &a->sin6_addr) == 1;
}

static napi_value buffer_at(napi_env env, size_t size, uint8_t **data, napi_ref *ref) {
  napi_value b;
  if (napi_create_buffer(env, size, (void **)data, &b) != napi_ok) return NULL;
  memset(*data, 0, size);
  if (napi_create_reference(env, b, 1, ref) != napi_ok) return NULL;
  return b;
}

// open(family 4|6, address, port, reusePort, rcvbuf, sndbuf, onBatch) ->
//   { handle, recv, meta, send, smeta, address, port, batch, slot, metaSize }
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, NULL, "udp-batch: open(family, address, port, reusePort, rcvbuf, sndbuf, onBatch)");
    return NULL;
  }
  uint32_t fam = 0, port = 0, rcvbuf = 0, sndbuf = 0;
  bool reuse = false;
  char addr[INET6_ADDRSTRLEN + 1];
  size_t alen = 0;
  napi_valuetype cbtype;
  if (napi_get_value_uint32(env, argv[0], &fam) != napi_ok || (fam != 4 && fam != 6) ||
      napi_get_value_string_utf8(env, argv[1], addr, sizeof addr, &alen) != napi_ok || alen >= INET6_ADDRSTRLEN ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok || port > 65535 || napi_get_value_bool(env, argv[3], &reuse) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &rcvbuf) != napi_ok || napi_get_value_uint32(env, argv[5], &sndbuf) != napi_ok ||
      napi_typeof(env, argv[6], &cbtype) != napi_ok || cbtype != napi_function || rcvbuf > INT32_MAX || sndbuf > INT32_MAX) {
    napi_throw_type_error(env, NULL, "udp-batch: bad arguments to open");
    return NULL;
  }
  int family = fam == 4 ? AF_INET : AF_INET6;
  struct sockaddr_storage sa;
  socklen_t salen;
  if (!parse_address(family, addr, port, &sa, &salen)) {
    napi_throw_type_error(env, NULL, "udp-batch: address is not an IP literal of that family");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno, addr, port);
  int one = 1, rb = (int)rcvbuf, sb = (int)sndbuf;
  // The kernel caps these at net.core.[rw]mem_max, as it does for node:dgram's recvBufferSize.
  if ((rb > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb) < 0) ||
      (sb > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb) < 0) ||
      (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt", e, addr, port);
  }
  if (bind(fd, (struct sockaddr *)&sa, salen) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e, addr, port);
  }
  struct sockaddr_storage local;
  socklen_t llen = sizeof local;
  char ltext[INET6_ADDRSTRLEN] = "";
  unsigned lport = 0;
  if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0) {
    if (local.ss_family == AF_INET) {
      lport = ntohs(((struct sockaddr_in *)&local)->sin_port);
      inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, ltext, sizeof ltext);
    } else {
      lport = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&local)->sin6_addr, ltext, sizeof ltext);
    }
  }

  Sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    napi_throw_error(env, NULL, "udp-batch: out of memory");
    return NULL;
  }
  s->fd = fd;
  s->family = family;
  s->env = env;
  s->owners = 1;
  napi_value bufs[4];
  bufs[0] = buffer_at(env, (size_t)BATCH * SLOT, &s->recv, &s->buffers[0]);
  bufs[1] = bufs[0] ? buffer_at(env, (size_t)BATCH * META, &s->meta, &s->buffers[1]) : NULL;
  bufs[2] = bufs[1] ? buffer_at(env, (size_t)BATCH * SLOT, &s->send, &s->buffers[2]) : NULL;
  bufs[3] = bufs[2] ? buffer_at(env, (size_t)BATCH * SMETA, &s->smeta, &s->buffers[3]) : NULL;
  napi_value name;
  uv_loop_t *loop = NULL;
  if (!bufs[3] || napi_create_reference(env, argv[6], 1, &s->on_batch) != napi_ok ||
      napi_create_string_utf8(env, "podswarm:udp-batch", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &s->async) != napi_ok || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, &s->poll, fd) != 0) {
    // Nothing polls yet: undo by hand (the references leak if half made; this only happens out of memory).
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "udp-batch: could not set the socket up");
    return NULL;
  }
  s->poll.data = s;
  s->owners = 2; // the JavaScript handle and the uv poll handle
  napi_value handle;
  if (napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
    s->owners = 1;
    begin_close(env, s);
    napi_throw_error(env, NULL, "udp-batch: could not make the handle");
    return NULL;
  }
  if (uv_poll_start(&s->poll, UV_READABLE, on_readable) != 0) {
    begin_close(env, s);
    napi_throw_error(env, NULL, "udp-batch: uv_poll_start failed");
    return NULL;
  }

  napi_value out, v;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_set_named_property(env, out, "handle", handle));
  CHECK(env, napi_set_named_property(env, out, "recv", bufs[0]));
  CHECK(env, napi_set_named_property(env, out, "meta", bufs[1]));
  CHECK(env, napi_set_named_property(env, out, "send", bufs[2]));
  CHECK(env, napi_set_named_property(env, out, "smeta", bufs[3]));
  CHECK(env, napi_create_string_utf8(env, ltext, NAPI_AUTO_LENGTH, &v));
  CHECK(env, napi_set_named_property(env, out, "address", v));
  CHECK(env, napi_create_uint32(env, lport, &v));
  CHECK(env, napi_set_named_property(env, out, "port", v));
  CHECK(env, napi_create_uint32(env, BATCH, &v));
  CHECK(env, napi_set_named_property(env, out, "batch", v));
  CHECK(env, napi_create_uint32(env, SLOT, &v));
  CHECK(env, napi_set_named_property(env, out, "slot", v));
  CHECK(env, napi_create_uint32(env, META, &v));
  CHECK(env, napi_set_named_property(env, out, "metaSize", v));
  return out;
}

// sendTo(handle, buffer, address, port) -> bool: one reply outside a batch (an asynchronous answer, or one too big for a slot).
static napi_value SendTo(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "udp-batch: sendTo(handle, buffer, address, port)");
    return NULL;
  }
  Sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool isbuf = false;
  char addr[INET6_ADDRSTRLEN + 1];
  size_t alen = 0;
  uint32_t port = 0;
  if (napi_is_buffer(env, argv[1], &isbuf) != napi_ok || !isbuf || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], addr, sizeof addr, &alen) != napi_ok || alen >= INET6_ADDRSTRLEN ||
      napi_get_value_uint32(env, argv[3], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "udp-batch: bad arguments to sendTo");
    return NULL;
  }
  bool sent = false;
  struct sockaddr_storage to;
  socklen_t tolen;
  if (!s->closing && len <= 65535 && parse_address(s->family, addr, port, &to, &tolen)) {
    ssize_t n;
    do n = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, tolen);
    while (n < 0 && errno == EINTR);
    sent = n >= 0;
  }
  if (!sent && !s->closing) send_failed_total++;
  CHECK(env, napi_get_boolean(env, sent, &result));
  return result;
}

// stats() -> { truncated, sendFailed }
static napi_value Stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  CHECK(env, napi_create_object(env, &out));
  CHECK(env, napi_create_double(env, truncated_total, &v));
  CHECK(env, napi_set_named_property(env, out, "truncated", v));
  CHECK(env, napi_create_double(env, send_failed_total, &v));
  CHECK(env, napi_set_named_property(env, out, "sendFailed", v));
  return out;
}

// close(handle[, onClosed]): stops receiving now; the descriptor closes on the next loop turn, then onClosed runs.
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Sock *s = argc >= 1 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  napi_valuetype t = napi_undefined;
  if (argc >= 2) CHECK(env, napi_typeof(env, argv[1], &t));
  if (s->closing) {
    napi_throw_error(env, NULL, "udp-batch: socket already closed");
    return NULL;
  }
  if (t == napi_function) CHECK(env, napi_create_reference(env, argv[1], 1, &s->on_closed));
  begin_close(env, s);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, SendTo, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, Stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
