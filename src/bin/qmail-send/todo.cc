// todo.cc: preprocessing (INTERNALS step 2): each todo/N becomes info/S/N
// plus local/S/N and/or remote/S/N, durably, before qmail-clean removes
// todo/N and intd/N (state S4 -> S5).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "queue.h"
#include "queuedir.h"
#include "route.h"
#include "send.h"
#include "size.h"

namespace qng::send {
namespace {

// The digits at the start of s, as qmail's scan_ulong (0 when none).
uint64_t leading_number(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && n < 19 && s[n] >= '0' && s[n] <= '9') ++n;
  return parse_decimal(s.substr(0, n)).value_or(0);
}

// One file being written: a Writer over an Fd, created on first use.
struct OutFile {
  std::string path;
  Fd fd;
  std::unique_ptr<Writer> w;
};

}  // namespace

void QmailSend::todo_selprep(time_t& wakeup) {
  if (exitasap_ || paused()) return;
  if (todo_scanning_ || trigger_pending_) wakeup = recent_;
  wakeup = std::min(wakeup, nexttodorun_);
}

// A scan lists todo/ when lock/trigger was poked or 25 minutes have passed,
// then handles one message per turn of the loop, so that deliveries go on
// while a big queue is preprocessed.
void QmailSend::todo_do() {
  if (exitasap_ || paused()) return;
  if (!todo_scanning_) {
    if (!trigger_pending_ && recent_ < nexttodorun_) return;
    trigger_pending_ = false;
    open_trigger();
    auto ids = list_flat("todo");
    if (!ids) {
      log("alert: unable to opendir todo, sleeping...");
      pause_all();
      return;
    }
    todo_ids_ = std::move(*ids);
    todo_pos_ = 0;
    todo_scanning_ = true;
    nexttodorun_ = recent_ + kSleepTodo;
  }
  if (todo_pos_ >= todo_ids_.size()) {
    todo_scanning_ = false;
    todo_ids_.clear();
    return;
  }
  todo_process(todo_ids_[todo_pos_++]);
}

void QmailSend::todo_process(uint64_t id) {
  const std::string todo = todo_path(id);
  auto in = open_read(todo);
  if (!in) {
    log("warning: unable to open " + todo);
    return;
  }
  struct stat st;
  const std::string mess = mess_path(id);
  if (::stat(mess.c_str(), &st) == -1) {  // for the statistics
    log("warning: unable to stat " + mess);
    return;
  }

  // Leftovers of an earlier attempt that crashed: start from scratch.
  OutFile info{info_path(id), Fd(), nullptr};
  OutFile chan[kChannels] = {{chan_path(kLocal, id), Fd(), nullptr},
                             {chan_path(kRemote, id), Fd(), nullptr}};
  for (const std::string* fn : {&chan[kLocal].path, &chan[kRemote].path, &info.path}) {
    if (::unlink(fn->c_str()) == -1 && errno != ENOENT) {
      log("warning: unable to unlink " + *fn);
      return;
    }
  }
  auto made = open_excl(info.path, 0600);
  if (!made) {
    log("warning: unable to create " + info.path);
    return;
  }
  info.fd = std::move(*made);
  info.w = std::make_unique<Writer>(info.fd.get());

  const std::string idtext = std::to_string(id);
  log("new msg " + idtext);

  Reader r(in->get(), 0, 8192);
  uint64_t uid = 0;
  uint64_t pid = 0;
  std::string rec;
  for (;;) {
    auto got = r.read_line(rec, kRecordMax, '\0');
    if (!got) {
      log("warning: trouble reading " + todo);
      return;
    }
    if (rec.empty() || rec.back() != '\0') break;
    std::string_view body(rec.data() + 1, rec.size() - 2);
    switch (rec[0]) {
      case 'u':
        uid = leading_number(body);
        break;
      case 'p':
        pid = leading_number(body);
        break;
      case 'F':
        info.w->put(rec);
        log("info msg " + idtext + ": bytes " + std::to_string(st.st_size) + " from <" +
            log_safe(body) + "> qp " + std::to_string(pid) + " uid " + std::to_string(uid));
        break;
      case 'T': {
        Rewritten rw = rewrite_recipient(body, controls_.maps, controls_.envnoathost);
        OutFile& f = chan[rw.channel];
        if (!f.w) {
          auto cf = open_excl(f.path, 0600);
          if (!cf) {
            log("warning: unable to create " + f.path);
            return;
          }
          f.fd = std::move(*cf);
          f.w = std::make_unique<Writer>(f.fd.get());
        }
        f.w->put('T');
        f.w->put(rw.address);
        f.w->put('\0');
        if (f.w->failed()) {
          log("warning: trouble writing to " + f.path);
          return;
        }
        break;
      }
      default:
        log("warning: unknown record type in " + todo);
        return;
    }
  }
  in->reset();

  // Every file and its directory entry on disk before todo/N goes.
  for (OutFile* f : {&info, &chan[kLocal], &chan[kRemote]}) {
    if (!f->w) continue;
    if (!f->w->flush()) {
      log("warning: trouble writing to " + f->path);
      return;
    }
    if (!fsync_fd(f->fd.get(), f->path)) {
      log("warning: trouble fsyncing " + f->path);
      return;
    }
    if (!f->fd.close()) {
      log("warning: trouble writing to " + f->path);
      return;
    }
    if (!fsync_dir(dir_of(f->path))) {
      log("warning: trouble fsyncing " + dir_of(f->path));
      return;
    }
  }

  if (!clean(todo)) return;  // the next scan does it again

  bool any = false;
  for (int c = 0; c < kChannels; ++c)
    if (chan[c].w) {
      pqchan_[c].push({id, ::time(nullptr)});
      any = true;
    }
  if (!any) pqdone_.push({id, ::time(nullptr)});
}

}  // namespace qng::send
