import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import {
  loginBody,
  refreshBody,
  registerBody,
  logoutBody,
  forgotBody,
  resetBody,
  tokenPair,
  detailOut,
} from './auth.schemas';
import { userOut, type RegisterInput } from '../users/users.schemas';
import { serializeUser } from '../users/users.serializers';

const noStore = { 'Cache-Control': 'no-store' };

export function authRoutes({ auth, limits }: Services): RouteSpec[] {
  const tags = ['auth'];
  return [
    {
      method: 'post',
      path: '/auth/register',
      summary: 'Create an account, joining a workspace by invite or founding one',
      tags,
      access: 'public',
      before: [limits.register],
      schemas: { body: registerBody },
      responses: {
        201: { description: 'The new user', schema: userOut },
        400: {
          description: 'REGISTER_USER_ALREADY_EXISTS, REGISTER_WORKSPACE_ALREADY_EXISTS, REGISTER_INVALID_INVITE_TOKEN',
        },
        429: { description: 'Too many registrations from this IP' },
        503: { description: 'The password-hashing pool is full' },
      },
      handler: async (req, res) => {
        const user = await auth.register(req.valid.body as RegisterInput);
        res.status(201).set(noStore).json(serializeUser(user));
      },
    },
    {
      method: 'post',
      path: '/auth/jwt/login',
      summary: 'Log in (JSON or the OAuth2 password form)',
      tags,
      access: 'public',
      body: ['json', 'form'],
      before: [limits.loginGate],
      schemas: { body: loginBody },
      responses: {
        200: { description: 'A token pair', schema: tokenPair },
        400: { description: 'LOGIN_BAD_CREDENTIALS' },
        429: {
          description:
            'Locked out for this (account, client), the account braked after many failures from anywhere, or too many failures from this client',
        },
        503: { description: 'The password-hashing pool is full' },
      },
      handler: async (req, res) => {
        const body = req.valid.body as { username?: string; email?: string; password: string };
        const pair = await auth.login(body.username ?? body.email ?? '', body.password, req.ip ?? '');
        res.set(noStore).json(pair);
      },
    },
    {
      method: 'post',
      path: '/auth/jwt/refresh',
      summary: 'Rotate a refresh token for a new pair',
      tags,
      access: 'public',
      schemas: { body: refreshBody },
      responses: {
        200: { description: 'A new token pair', schema: tokenPair },
        401: { description: 'An unknown, expired or spent refresh token (REFRESH_TOKEN_INVALID)' },
      },
      handler: async (req, res) => {
        res.set(noStore).json(await auth.refresh((req.valid.body as { refresh_token: string }).refresh_token));
      },
    },
    {
      method: 'post',
      path: '/auth/jwt/logout',
      summary: 'Revoke this access token and its refresh family',
      tags,
      access: 'user',
      schemas: { body: logoutBody },
      responses: { 204: { description: 'Logged out' } },
      handler: async (req, res) => {
        await auth.logout(principalOf(req), (req.valid.body as { refresh_token?: string }).refresh_token);
        res.status(204).set(noStore).end();
      },
    },
    {
      method: 'post',
      path: '/auth/forgot-password',
      summary: 'Email a password-reset link (202 for any well-formed email)',
      tags,
      access: 'public',
      before: [limits.forgot],
      schemas: { body: forgotBody },
      responses: {
        202: { description: 'Accepted', schema: detailOut },
        429: { description: 'Too many requests from this IP' },
      },
      handler: async (req, res) => {
        await auth.forgotPassword((req.valid.body as { email: string }).email);
        res.status(202).set(noStore).json({ detail: 'If the account exists, a reset link has been sent' });
      },
    },
    {
      method: 'post',
      path: '/auth/reset-password',
      summary: 'Set a new password with a reset token',
      tags,
      access: 'public',
      before: [limits.reset],
      schemas: { body: resetBody },
      responses: {
        200: { description: 'Password changed', schema: detailOut },
        400: { description: 'RESET_PASSWORD_BAD_TOKEN' },
        429: { description: 'Too many attempts from this client' },
        503: { description: 'The password-hashing pool is full' },
      },
      handler: async (req, res) => {
        const { token, password } = req.valid.body as { token: string; password: string };
        await auth.resetPassword(token, password);
        res.set(noStore).json({ detail: 'Password has been reset' });
      },
    },
  ];
}
