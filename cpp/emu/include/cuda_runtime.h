// cpp/emu stands in for the CUDA toolkit header of this name.
#pragma once
#include "alma_emu.h"
