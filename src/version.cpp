#include "version.h"
namespace es {
const char* version() { return "0.1.0"; }
}
