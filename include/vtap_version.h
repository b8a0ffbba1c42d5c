/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The one place the vtap version is written; module and tools share it. */
#ifndef _VTAP_VERSION_H
#define _VTAP_VERSION_H
#define VTAP_VERSION "0.1.0"
#endif
