DROP TABLE dialect_modes;
