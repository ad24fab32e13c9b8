// bounce.cc: bounce/N, one QSBMF paragraph per failed recipient, and the
// bounce message injected through qmail-queue when the message is done.
//
// control/bounceformat may ask for "dsn" (RFC 3464) bounces; that format
// belongs to a later version, so for now every bounce is QSBMF, which is also
// what qmail sends and what a DSN would carry as its human-readable part.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "bounce_text.h"
#include "qqclient.h"
#include "queue.h"
#include "rewrite.h"
#include "send.h"
#include "verp.h"

namespace qng::send {

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
    auto qq = QueueClient::start(home_);
    if (!qq) {
      log("warning: unable to start qmail-queue, will try later");
      return false;
    }
    pid_t qp = qq->pid();
    qq->put(bounce_intro(head));
    qq->put_fd(paragraphs->get());
    qq->put(bounce_break(head));
    qq->put_fd(mess->get());
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
