/*
 * rowtypes: the HDF5 compound types of the fixed-layout rows that cmact files store (packet
 * index, audio blocks, chrony answers, labels, events, dataset session table). Each row is a C
 * struct; the memory type maps the struct as laid out by the compiler, the file type is the
 * same fields packed little-endian, so files do not depend on the writer's padding.
 */
#ifndef ROWTYPES_H
#define ROWTYPES_H

#include <hdf5.h>

typedef enum {
  ROW_PACKET,
  ROW_AUDIO_BLOCK,
  ROW_CHRONY,
  ROW_LABEL,
  ROW_EVENT,
  ROW_DS_SESSION,
  ROW__COUNT
} row_kind;

/* Borrowed handles, built once per process (thread-safe). */
hid_t rowtype_mem(row_kind k);
hid_t rowtype_file(row_kind k);

#endif
