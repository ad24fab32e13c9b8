// bounce.cc: bounce/N, one QSBMF paragraph per failed recipient, and the
// bounce message injected through qmail-queue when the message is done:
// an RFC 3464 report around the QSBMF text (control/bounceformat "dsn", the
// default, dsn_text.h) or qmail's plain QSBMF ("qsbmf", bounce_text.h).
// Either way bounce/N and the message are streamed, never held whole.
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "bounce_text.h"
#include "dsn_text.h"
#include "qqclient.h"
#include "queue.h"
#include "route.h"
#include "send.h"
#include "verp.h"

namespace qng::send {
namespace {

// 64 random bits for a MIME boundary; 0 when the kernel has none to give
// (time, pid and counter still differ, and the boundary is checked).
uint64_t random64() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof v, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof v)) v = 0;
  return v;
}

}  // namespace

std::string QmailSend::next_boundary(time_t now) {
  return make_boundary(now, ::getpid(), ++boundaries_, random64());
}

// Appends the paragraph durably; on a failed write the file is cut back so
// a retry does not leave half a paragraph behind.
bool QmailSend::add_bounce(uint64_t id, const std::string& recip, const std::string& report) {
  std::string text = bounce_paragraph(strip_vdom_prepend(recip, controls_.maps), report);
  std::string fn = bounce_path(id);
  auto fd = open_append(fn, 0600);
  if (!fd) return false;
  struct stat st;
  if (::fstat(fd->get(), &st) == -1) return false;
  if (!write_all(fd->get(), text) || !fsync_fd(fd->get(), fn)) {
    if (::ftruncate(fd->get(), st.st_size) != 0) {}  // best effort: no half paragraph
    return false;
  }
  if (!fd->close()) return false;
  if (st.st_size == 0 && !fsync_dir(dir_of(fn))) return false;  // a new file
  return true;
}

// True when there is nothing (more) to do: no bounce/N, or it was queued (or
// discarded as a triple bounce) and removed. False: try again later.
bool QmailSend::inject_bounce(uint64_t id) {
  std::string sender;
  time_t birth = 0;
  if (!get_info(id, sender, birth)) {
    log("warning: unable to open " + info_path(id) + "; will try again later");
    return false;
  }
  sender = bounce_target(sender);

  std::string fn = bounce_path(id);
  struct stat st;
  if (::stat(fn.c_str(), &st) == -1) {
    if (errno == ENOENT) return true;
    log("warning: unable to stat " + fn);
    return false;
  }

  if (sender == kDoubleBounceSender) {
    log("triple bounce: discarding " + fn);
  } else {
    BounceHead head;
    head.date = ::time(nullptr);
    head.bouncefrom = controls_.bouncefrom;
    head.bouncehost = controls_.bouncehost;
    head.double_bounce = sender.empty();
    head.recipient = head.double_bounce ? controls_.doublebounceto : sender;
    head.return_path = sender;

    auto paragraphs = open_read(fn);
    auto mess = open_read(mess_path(id));
    if (!paragraphs || !mess) {
      log("warning: trouble injecting bounce message, will try later");
      return false;
    }
    DsnHead dsn;
    bool as_dsn = controls_.bounceformat == BounceFormat::kDsn;
    if (as_dsn) {
      dsn.me = controls_.me;
      dsn.message_id = make_message_id(head.date, ::getpid(), id, controls_.me);
      dsn.arrival = birth;
      auto boundary = pick_boundary([&](unsigned) { return next_boundary(head.date); },
                                    {paragraphs->get(), mess->get()});
      if (!boundary) {
        log("warning: trouble injecting bounce message, will try later");
        return false;
      }
      dsn.boundary = std::move(*boundary);
    }
    auto qq = QueueClient::start(home_);
    if (!qq) {
      log("warning: unable to start qmail-queue, will try later");
      return false;
    }
    pid_t qp = qq->pid();
    bool read_ok = true;
    if (as_dsn) {
      FileLines lines(paragraphs->get());
      Status written = write_dsn(
          head, dsn, lines, [&](std::string_view text) { qq->put(text); },
          [&] { qq->put_fd(mess->get()); });
      read_ok = written.ok();
    } else {
      qq->put(bounce_intro(head));
      qq->put_fd(paragraphs->get());
      qq->put(bounce_break(head));
      qq->put_fd(mess->get());
    }
    if (!read_ok) {
      log("warning: trouble reading " + fn + "; will try again later");
      return false;  // the unfinished client makes qmail-queue drop what it got
    }
    qq->from(head.double_bounce ? kDoubleBounceSender : std::string_view());
    qq->to(head.recipient);
    if (!qq->finish().empty()) {
      log("warning: trouble injecting bounce message, will try later");
      return false;
    }
    log("bounce msg " + std::to_string(id) + " qp " + std::to_string(qp));
  }
  if (::unlink(fn.c_str()) == -1) {
    log("warning: unable to unlink " + fn);
    return false;
  }
  return true;
}

}  // namespace qng::send
