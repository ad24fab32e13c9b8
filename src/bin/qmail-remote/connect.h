// connect.h: a TCP connection to one address within timeoutconnect.
#pragma once

#include <cstdint>
#include <optional>

#include "fd.h"
#include "ip.h"
#include "result.h"

namespace qng::remote {

// Connects to ip:port within timeout_s seconds, from source (control/
// outgoingip) when given. The socket is non-blocking. ETIMEDOUT when the
// time ran out (qmail-tcpto counts those); a failed bind has the context
// "bind".
Result<Fd> timeout_connect(const IpAddress& ip, uint16_t port, unsigned timeout_s,
                           const std::optional<IpAddress>& source);

}  // namespace qng::remote
