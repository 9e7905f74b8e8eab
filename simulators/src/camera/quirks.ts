/**
 * Behaviours seen on real camera firmwares, as data: each quirk is a switch on the simulated camera, so a
 * test or benchmark describes the camera it needs instead of copying any vendor's firmware. Defaults are a
 * well-behaved ONVIF Profile S camera.
 */
export interface CameraQuirks {
  /**
   * 'normal': an events service with PullPoint. 'none': no events service is announced and requests to it
   * get ActionNotSupported. 'reset-on-subscribe': announced, but CreatePullPointSubscription gets its
   * connection cut without an answer (seen on a gSOAP-based firmware).
   */
  events?: 'normal' | 'none' | 'reset-on-subscribe';
  /**
   * 'normal': Renew extends the subscription. 'fault': every Renew faults (a firmware answering "error -8").
   * 'needs-addressing': Renew faults unless it carries the WS-Addressing Action and To headers, as the
   * WS-BaseNotification binding asks.
   */
  renew?: 'normal' | 'fault' | 'needs-addressing';
  /** 'both': motion is published on VideoSource/MotionAlarm and on RuleEngine/CellMotionDetector/Motion. */
  motionTopics?: 'one' | 'both';
  /**
   * 'required' (default): WS-Security UsernameToken on everything but GetSystemDateAndTime. 'refused': a
   * camera without authentication that faults (s:MustUnderstand) on any request carrying a Security header.
   */
  wsSecurity?: 'required' | 'refused';
  /** Stream and snapshot URIs pretty-printed inside <tt:Uri>, with newlines and indentation around them. */
  uriWhitespace?: boolean;
  /**
   * 'normal': GotoPreset moves the head (taking `ptzMoveMs`) and GetStatus reports where it is. 'none': no
   * GetStatus (ActionNotSupported). 'stuck': GotoPreset is answered but the head never moves (a failed motor).
   */
  ptz?: 'normal' | 'none' | 'stuck';
}

export const NORMAL_CAMERA: Required<CameraQuirks> = Object.freeze({
  events: 'normal',
  renew: 'normal',
  motionTopics: 'one',
  wsSecurity: 'required',
  uriWhitespace: false,
  ptz: 'normal',
});
