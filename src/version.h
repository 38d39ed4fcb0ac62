// version.h: the core library's version string, shown in the UI and the server.
#pragma once
namespace es {
const char* version();
}
