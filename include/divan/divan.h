// divan's public API in one include. See README.md for an example.
#ifndef DIVAN_DIVAN_H_
#define DIVAN_DIVAN_H_

#include "divan/changes.h"
#include "divan/data_dir.h"
#include "divan/database.h"
#include "divan/document.h"
#include "divan/options.h"
#include "divan/peer.h"
#include "divan/replicator.h"
#include "divan/status.h"

#endif  // DIVAN_DIVAN_H_
