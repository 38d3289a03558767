/*
 * Frames: the unit every stream transport carries.
 *
 *   frame = length (u32, big-endian, payload bytes) || payload
 *
 * The length is checked against the reader's limit before any payload is
 * buffered, so a peer cannot make us hold more than one limit's worth.
 * Runs on whichever loop owns the connection; no state of its own.
 */
#ifndef SSP_PROTO_FRAME_H
#define SSP_PROTO_FRAME_H

#include "proto/buf.h"

#define SSP_FRAME_HDR 4
/* Largest control-socket frame: an import batch or a page of records. */
#define SSP_CTL_MAX_FRAME (8u << 20)

/*
 * Looks for a complete frame at the start of in. Returns SSP_OK with the
 * payload in *payload and its total size (header included) in *used;
 * SSP_ERR_AGAIN when more bytes are needed; SSP_ERR_PROTO when the announced
 * length exceeds max. The payload borrows from in.
 */
SSP_MUST_CHECK ssp_err ssp_frame_decode(struct ssp_slice in, size_t max, struct ssp_slice *payload,
                                        size_t *used);
/* Appends one frame holding payload to out. */
SSP_MUST_CHECK ssp_err ssp_frame_encode(struct ssp_buf *out, struct ssp_slice payload);

#endif
