#pragma once

// Raw TCP to a server on this machine, for tests that speak below HTTP clients (garbage, idle
// or half-sent connections).

namespace marketsync::testing {

// A socket connected to 127.0.0.1:port, or -1 when the connection failed. The caller closes it.
int ConnectLoopback(int port);

}  // namespace marketsync::testing
