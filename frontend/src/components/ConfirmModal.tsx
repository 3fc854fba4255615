import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { ReactNode } from "react";

/** Ask before an action that cannot be taken back (delete, cancel, terminate, recover). */
export function ConfirmModal({
  visible,
  header,
  confirmText,
  dismissText = "Cancel",
  confirmDisabled = false,
  onConfirm,
  onDismiss,
  children,
}: {
  visible: boolean;
  header: string;
  confirmText: string;
  dismissText?: string;
  confirmDisabled?: boolean;
  onConfirm: () => void;
  onDismiss: () => void;
  children: ReactNode;
}) {
  return (
    <Modal
      visible={visible}
      onDismiss={onDismiss}
      header={header}
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={onDismiss}>
              {dismissText}
            </Button>
            <Button variant="primary" disabled={confirmDisabled} onClick={onConfirm}>
              {confirmText}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      {children}
    </Modal>
  );
}
