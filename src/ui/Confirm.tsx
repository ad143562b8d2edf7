import { React } from './api';

export interface ConfirmRequest {
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm: () => void;
}

/** A Bootstrap modal asking to confirm a destructive action (remove a failed entry, clear the failed list). */
export function ConfirmDialog(props: { request: ConfirmRequest | null; onClose: () => void }) {
  const r = props.request;
  if (!r) return null;
  return (
    <>
      <div className="modal-backdrop fade show" />
      <div className="modal fade show plexcourier-modal" role="dialog" aria-modal="true" aria-label={r.title} style={{ display: 'block' }} onClick={props.onClose}>
        <div className="modal-dialog" role="document" onClick={(e) => e.stopPropagation()}>
          <div className="modal-content">
            <div className="modal-header">
              <h5 className="modal-title">{r.title}</h5>
            </div>
            <div className="modal-body">{r.body}</div>
            <div className="modal-footer">
              <button type="button" className="btn btn-secondary" onClick={props.onClose}>
                Cancel
              </button>
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => {
                  props.onClose();
                  r.onConfirm();
                }}
              >
                {r.confirmLabel}
              </button>
            </div>
          </div>
        </div>
      </div>
    </>
  );
}
