/**
 * Translation over HTTP ({@code alma serve}): {@link dev.alma.server.TranslationServer} puts every request's texts
 * into one {@link dev.alma.TranslationQueue}, so requests from many clients share forward passes.
 */
package dev.alma.server;
