// lint-as: src-main/core/manager/fixture.ts
import { app } from 'electron';
export const a = app;
