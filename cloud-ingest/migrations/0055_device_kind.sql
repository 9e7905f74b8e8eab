-- The device's kind as its edge reports it, so the device list says what each device is.
ALTER TABLE device_status ADD COLUMN kind text;
