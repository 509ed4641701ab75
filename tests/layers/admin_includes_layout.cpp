// Compiled with berth_admin's include roots: must compile. The control for
// admin_includes_stores.cpp: the one storage header the admin commands use.
#include "storage/fs/layout.hpp"
