/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Me {\n    me {\n      name\n      role\n    }\n  }\n": typeof types.MeDocument,
    "\n  fragment NextPage on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": typeof types.NextPageFragmentDoc,
    "\n  fragment Pages on PageInfo {\n    ...NextPage\n    hasPreviousPage\n    startCursor\n  }\n": typeof types.PagesFragmentDoc,
    "\n  query AudiencePreview($filter: ClientFilterInput!) {\n    audiencePreview(filter: $filter) {\n      count\n      byOperatorCode {\n        value\n        count\n      }\n      byTag {\n        value\n        count\n      }\n    }\n  }\n": typeof types.AudiencePreviewDocument,
    "\n  query AuditLog($first: Int, $after: Cursor, $where: AuditLogWhere) {\n    auditLog(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          action\n          targetType\n          targetID\n          changes\n          requestID\n        }\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query Clients($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: ClientWhereInput) {\n    clients(first: $first, after: $after, last: $last, before: $before, where: $where) {\n      totalCount\n      pageInfo {\n        ...Pages\n      }\n      edges {\n        node {\n          id\n          phone\n          tag\n          operatorCode\n          timezone\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.ClientsDocument,
    "\n  mutation CreateClient($input: CreateClientInput!) {\n    createClient(input: $input) {\n      id\n    }\n  }\n": typeof types.CreateClientDocument,
    "\n  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {\n    updateClient(id: $id, input: $input) {\n      id\n      phone\n      tag\n      operatorCode\n      timezone\n    }\n  }\n": typeof types.UpdateClientDocument,
    "\n  mutation DeleteClient($id: ID!) {\n    deleteClient(id: $id)\n  }\n": typeof types.DeleteClientDocument,
    "\n  query Dashboard {\n    generalStatistics {\n      mailings\n      messages\n      byStatus {\n        status\n        count\n      }\n      perMailing(limit: 20) {\n        ...MailingCounts\n      }\n    }\n  }\n": typeof types.DashboardDocument,
    "\n  query SendHistory {\n    sendHistory(minutes: 60) {\n      since\n      bucketSeconds\n      buckets {\n        at\n        sent\n        failed\n      }\n    }\n  }\n": typeof types.SendHistoryDocument,
    "\n  fragment ImportState on ClientImport {\n    id\n    state\n    mode\n    skipInvalid\n    lines\n    imported\n    skipped\n    errorCount\n    errors {\n      line\n      field\n      message\n    }\n  }\n": typeof types.ImportStateFragmentDoc,
    "\n  mutation ImportClients($file: Upload!, $mode: ImportMode, $skipInvalid: Boolean) {\n    importClients(file: $file, mode: $mode, skipInvalid: $skipInvalid) {\n      ...ImportState\n    }\n  }\n": typeof types.ImportClientsDocument,
    "\n  subscription ClientImportProgress($id: ID!) {\n    clientImportProgress(id: $id) {\n      ...ImportState\n    }\n  }\n": typeof types.ClientImportProgressDocument,
    "\n  fragment MailingEdit on Mailing {\n    id\n    text\n    status\n    startAt\n    endAt\n    filter {\n      tags\n      operatorCodes\n    }\n    sendWindow {\n      from\n      to\n    }\n  }\n": typeof types.MailingEditFragmentDoc,
    "\n  query MailingForEdit($id: ID!) {\n    mailing(id: $id) {\n      ...MailingEdit\n    }\n  }\n": typeof types.MailingForEditDocument,
    "\n  mutation CreateMailing($input: CreateMailingInput!) {\n    createMailing(input: $input) {\n      id\n      status\n    }\n  }\n": typeof types.CreateMailingDocument,
    "\n  mutation UpdateMailing($id: ID!, $input: UpdateMailingInput!) {\n    updateMailing(id: $id, input: $input) {\n      ...MailingEdit\n    }\n  }\n": typeof types.UpdateMailingDocument,
    "\n  query Mailing($id: ID!) {\n    mailing(id: $id) {\n      id\n      text\n      status\n      startAt\n      endAt\n      createdAt\n      filter {\n        tags\n        operatorCodes\n      }\n      sendWindow {\n        from\n        to\n      }\n      stats {\n        ...MailingLive\n      }\n    }\n  }\n": typeof types.MailingDocument,
    "\n  query MailingMessages($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor, $status: MessageStatus) {\n    mailing(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, status: $status) {\n        totalCount\n        pageInfo {\n          ...Pages\n        }\n        edges {\n          node {\n            id\n            phone\n            status\n            attempts\n            lastError\n            sentAt\n          }\n        }\n      }\n    }\n  }\n": typeof types.MailingMessagesDocument,
    "\n  subscription StatusFeed($id: ID!, $last: Int!) {\n    messageStatusBatches(mailingID: $id, last: $last) {\n      count\n      events {\n        messageID\n        status\n        attempts\n        at\n      }\n    }\n  }\n": typeof types.StatusFeedDocument,
    "\n  mutation PauseMailing($id: ID!) {\n    pauseMailing(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.PauseMailingDocument,
    "\n  mutation ResumeMailing($id: ID!) {\n    resumeMailing(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ResumeMailingDocument,
    "\n  mutation CancelMailing($id: ID!) {\n    cancelMailing(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.CancelMailingDocument,
    "\n  mutation DeleteMailing($id: ID!) {\n    deleteMailing(id: $id)\n  }\n": typeof types.DeleteMailingDocument,
    "\n  query Mailings($first: Int!, $where: MailingWhereInput) {\n    mailings(first: $first, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n      }\n      edges {\n        node {\n          id\n          text\n          status\n          startAt\n          endAt\n          stats {\n            ...MailingCounts\n          }\n        }\n      }\n    }\n  }\n": typeof types.MailingsDocument,
    "\n  fragment MailingCounts on MailingStats {\n    mailingID\n    status\n    total\n    byStatus {\n      status\n      count\n    }\n  }\n": typeof types.MailingCountsFragmentDoc,
    "\n  fragment MailingLive on MailingStats {\n    ...MailingCounts\n    rate\n    eta\n  }\n": typeof types.MailingLiveFragmentDoc,
    "\n  subscription MailingProgress($id: ID!) {\n    mailingProgress(mailingID: $id) {\n      ...MailingLive\n    }\n  }\n": typeof types.MailingProgressDocument,
    "\n  query OptOuts($first: Int, $after: Cursor, $where: OptOutWhere) {\n    optOuts(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          phone\n          reason\n          createdAt\n          createdBy\n        }\n      }\n    }\n  }\n": typeof types.OptOutsDocument,
    "\n  mutation OptOut($phone: String!, $reason: String) {\n    optOut(phone: $phone, reason: $reason) {\n      id\n      phone\n    }\n  }\n": typeof types.OptOutDocument,
    "\n  mutation OptIn($phone: String!) {\n    optIn(phone: $phone)\n  }\n": typeof types.OptInDocument,
    "\n  query DailyReport($date: Date) {\n    dailyReport(date: $date) {\n      date\n      from\n      to\n      text\n      totals {\n        mailings\n        messages\n        byStatus {\n          status\n          count\n        }\n        perMailing {\n          ...MailingCounts\n        }\n      }\n    }\n  }\n": typeof types.DailyReportDocument,
    "\n  mutation SendDailyReport($date: Date) {\n    sendDailyReport(date: $date) {\n      date\n    }\n  }\n": typeof types.SendDailyReportDocument,
    "\n  query WhoAmI {\n    me {\n      name\n      role\n    }\n  }\n": typeof types.WhoAmIDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      name\n      role\n    }\n  }\n": types.MeDocument,
    "\n  fragment NextPage on PageInfo {\n    hasNextPage\n    endCursor\n  }\n": types.NextPageFragmentDoc,
    "\n  fragment Pages on PageInfo {\n    ...NextPage\n    hasPreviousPage\n    startCursor\n  }\n": types.PagesFragmentDoc,
    "\n  query AudiencePreview($filter: ClientFilterInput!) {\n    audiencePreview(filter: $filter) {\n      count\n      byOperatorCode {\n        value\n        count\n      }\n      byTag {\n        value\n        count\n      }\n    }\n  }\n": types.AudiencePreviewDocument,
    "\n  query AuditLog($first: Int, $after: Cursor, $where: AuditLogWhere) {\n    auditLog(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          action\n          targetType\n          targetID\n          changes\n          requestID\n        }\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query Clients($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: ClientWhereInput) {\n    clients(first: $first, after: $after, last: $last, before: $before, where: $where) {\n      totalCount\n      pageInfo {\n        ...Pages\n      }\n      edges {\n        node {\n          id\n          phone\n          tag\n          operatorCode\n          timezone\n          createdAt\n        }\n      }\n    }\n  }\n": types.ClientsDocument,
    "\n  mutation CreateClient($input: CreateClientInput!) {\n    createClient(input: $input) {\n      id\n    }\n  }\n": types.CreateClientDocument,
    "\n  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {\n    updateClient(id: $id, input: $input) {\n      id\n      phone\n      tag\n      operatorCode\n      timezone\n    }\n  }\n": types.UpdateClientDocument,
    "\n  mutation DeleteClient($id: ID!) {\n    deleteClient(id: $id)\n  }\n": types.DeleteClientDocument,
    "\n  query Dashboard {\n    generalStatistics {\n      mailings\n      messages\n      byStatus {\n        status\n        count\n      }\n      perMailing(limit: 20) {\n        ...MailingCounts\n      }\n    }\n  }\n": types.DashboardDocument,
    "\n  query SendHistory {\n    sendHistory(minutes: 60) {\n      since\n      bucketSeconds\n      buckets {\n        at\n        sent\n        failed\n      }\n    }\n  }\n": types.SendHistoryDocument,
    "\n  fragment ImportState on ClientImport {\n    id\n    state\n    mode\n    skipInvalid\n    lines\n    imported\n    skipped\n    errorCount\n    errors {\n      line\n      field\n      message\n    }\n  }\n": types.ImportStateFragmentDoc,
    "\n  mutation ImportClients($file: Upload!, $mode: ImportMode, $skipInvalid: Boolean) {\n    importClients(file: $file, mode: $mode, skipInvalid: $skipInvalid) {\n      ...ImportState\n    }\n  }\n": types.ImportClientsDocument,
    "\n  subscription ClientImportProgress($id: ID!) {\n    clientImportProgress(id: $id) {\n      ...ImportState\n    }\n  }\n": types.ClientImportProgressDocument,
    "\n  fragment MailingEdit on Mailing {\n    id\n    text\n    status\n    startAt\n    endAt\n    filter {\n      tags\n      operatorCodes\n    }\n    sendWindow {\n      from\n      to\n    }\n  }\n": types.MailingEditFragmentDoc,
    "\n  query MailingForEdit($id: ID!) {\n    mailing(id: $id) {\n      ...MailingEdit\n    }\n  }\n": types.MailingForEditDocument,
    "\n  mutation CreateMailing($input: CreateMailingInput!) {\n    createMailing(input: $input) {\n      id\n      status\n    }\n  }\n": types.CreateMailingDocument,
    "\n  mutation UpdateMailing($id: ID!, $input: UpdateMailingInput!) {\n    updateMailing(id: $id, input: $input) {\n      ...MailingEdit\n    }\n  }\n": types.UpdateMailingDocument,
    "\n  query Mailing($id: ID!) {\n    mailing(id: $id) {\n      id\n      text\n      status\n      startAt\n      endAt\n      createdAt\n      filter {\n        tags\n        operatorCodes\n      }\n      sendWindow {\n        from\n        to\n      }\n      stats {\n        ...MailingLive\n      }\n    }\n  }\n": types.MailingDocument,
    "\n  query MailingMessages($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor, $status: MessageStatus) {\n    mailing(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, status: $status) {\n        totalCount\n        pageInfo {\n          ...Pages\n        }\n        edges {\n          node {\n            id\n            phone\n            status\n            attempts\n            lastError\n            sentAt\n          }\n        }\n      }\n    }\n  }\n": types.MailingMessagesDocument,
    "\n  subscription StatusFeed($id: ID!, $last: Int!) {\n    messageStatusBatches(mailingID: $id, last: $last) {\n      count\n      events {\n        messageID\n        status\n        attempts\n        at\n      }\n    }\n  }\n": types.StatusFeedDocument,
    "\n  mutation PauseMailing($id: ID!) {\n    pauseMailing(id: $id) {\n      id\n      status\n    }\n  }\n": types.PauseMailingDocument,
    "\n  mutation ResumeMailing($id: ID!) {\n    resumeMailing(id: $id) {\n      id\n      status\n    }\n  }\n": types.ResumeMailingDocument,
    "\n  mutation CancelMailing($id: ID!) {\n    cancelMailing(id: $id) {\n      id\n      status\n    }\n  }\n": types.CancelMailingDocument,
    "\n  mutation DeleteMailing($id: ID!) {\n    deleteMailing(id: $id)\n  }\n": types.DeleteMailingDocument,
    "\n  query Mailings($first: Int!, $where: MailingWhereInput) {\n    mailings(first: $first, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n      }\n      edges {\n        node {\n          id\n          text\n          status\n          startAt\n          endAt\n          stats {\n            ...MailingCounts\n          }\n        }\n      }\n    }\n  }\n": types.MailingsDocument,
    "\n  fragment MailingCounts on MailingStats {\n    mailingID\n    status\n    total\n    byStatus {\n      status\n      count\n    }\n  }\n": types.MailingCountsFragmentDoc,
    "\n  fragment MailingLive on MailingStats {\n    ...MailingCounts\n    rate\n    eta\n  }\n": types.MailingLiveFragmentDoc,
    "\n  subscription MailingProgress($id: ID!) {\n    mailingProgress(mailingID: $id) {\n      ...MailingLive\n    }\n  }\n": types.MailingProgressDocument,
    "\n  query OptOuts($first: Int, $after: Cursor, $where: OptOutWhere) {\n    optOuts(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          phone\n          reason\n          createdAt\n          createdBy\n        }\n      }\n    }\n  }\n": types.OptOutsDocument,
    "\n  mutation OptOut($phone: String!, $reason: String) {\n    optOut(phone: $phone, reason: $reason) {\n      id\n      phone\n    }\n  }\n": types.OptOutDocument,
    "\n  mutation OptIn($phone: String!) {\n    optIn(phone: $phone)\n  }\n": types.OptInDocument,
    "\n  query DailyReport($date: Date) {\n    dailyReport(date: $date) {\n      date\n      from\n      to\n      text\n      totals {\n        mailings\n        messages\n        byStatus {\n          status\n          count\n        }\n        perMailing {\n          ...MailingCounts\n        }\n      }\n    }\n  }\n": types.DailyReportDocument,
    "\n  mutation SendDailyReport($date: Date) {\n    sendDailyReport(date: $date) {\n      date\n    }\n  }\n": types.SendDailyReportDocument,
    "\n  query WhoAmI {\n    me {\n      name\n      role\n    }\n  }\n": types.WhoAmIDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      name\n      role\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      name\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment NextPage on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"): (typeof documents)["\n  fragment NextPage on PageInfo {\n    hasNextPage\n    endCursor\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment Pages on PageInfo {\n    ...NextPage\n    hasPreviousPage\n    startCursor\n  }\n"): (typeof documents)["\n  fragment Pages on PageInfo {\n    ...NextPage\n    hasPreviousPage\n    startCursor\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AudiencePreview($filter: ClientFilterInput!) {\n    audiencePreview(filter: $filter) {\n      count\n      byOperatorCode {\n        value\n        count\n      }\n      byTag {\n        value\n        count\n      }\n    }\n  }\n"): (typeof documents)["\n  query AudiencePreview($filter: ClientFilterInput!) {\n    audiencePreview(filter: $filter) {\n      count\n      byOperatorCode {\n        value\n        count\n      }\n      byTag {\n        value\n        count\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($first: Int, $after: Cursor, $where: AuditLogWhere) {\n    auditLog(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          action\n          targetType\n          targetID\n          changes\n          requestID\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query AuditLog($first: Int, $after: Cursor, $where: AuditLogWhere) {\n    auditLog(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          at\n          actor\n          action\n          targetType\n          targetID\n          changes\n          requestID\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Clients($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: ClientWhereInput) {\n    clients(first: $first, after: $after, last: $last, before: $before, where: $where) {\n      totalCount\n      pageInfo {\n        ...Pages\n      }\n      edges {\n        node {\n          id\n          phone\n          tag\n          operatorCode\n          timezone\n          createdAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Clients($first: Int, $after: Cursor, $last: Int, $before: Cursor, $where: ClientWhereInput) {\n    clients(first: $first, after: $after, last: $last, before: $before, where: $where) {\n      totalCount\n      pageInfo {\n        ...Pages\n      }\n      edges {\n        node {\n          id\n          phone\n          tag\n          operatorCode\n          timezone\n          createdAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateClient($input: CreateClientInput!) {\n    createClient(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation CreateClient($input: CreateClientInput!) {\n    createClient(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {\n    updateClient(id: $id, input: $input) {\n      id\n      phone\n      tag\n      operatorCode\n      timezone\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateClient($id: ID!, $input: UpdateClientInput!) {\n    updateClient(id: $id, input: $input) {\n      id\n      phone\n      tag\n      operatorCode\n      timezone\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteClient($id: ID!) {\n    deleteClient(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteClient($id: ID!) {\n    deleteClient(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Dashboard {\n    generalStatistics {\n      mailings\n      messages\n      byStatus {\n        status\n        count\n      }\n      perMailing(limit: 20) {\n        ...MailingCounts\n      }\n    }\n  }\n"): (typeof documents)["\n  query Dashboard {\n    generalStatistics {\n      mailings\n      messages\n      byStatus {\n        status\n        count\n      }\n      perMailing(limit: 20) {\n        ...MailingCounts\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SendHistory {\n    sendHistory(minutes: 60) {\n      since\n      bucketSeconds\n      buckets {\n        at\n        sent\n        failed\n      }\n    }\n  }\n"): (typeof documents)["\n  query SendHistory {\n    sendHistory(minutes: 60) {\n      since\n      bucketSeconds\n      buckets {\n        at\n        sent\n        failed\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ImportState on ClientImport {\n    id\n    state\n    mode\n    skipInvalid\n    lines\n    imported\n    skipped\n    errorCount\n    errors {\n      line\n      field\n      message\n    }\n  }\n"): (typeof documents)["\n  fragment ImportState on ClientImport {\n    id\n    state\n    mode\n    skipInvalid\n    lines\n    imported\n    skipped\n    errorCount\n    errors {\n      line\n      field\n      message\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ImportClients($file: Upload!, $mode: ImportMode, $skipInvalid: Boolean) {\n    importClients(file: $file, mode: $mode, skipInvalid: $skipInvalid) {\n      ...ImportState\n    }\n  }\n"): (typeof documents)["\n  mutation ImportClients($file: Upload!, $mode: ImportMode, $skipInvalid: Boolean) {\n    importClients(file: $file, mode: $mode, skipInvalid: $skipInvalid) {\n      ...ImportState\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ClientImportProgress($id: ID!) {\n    clientImportProgress(id: $id) {\n      ...ImportState\n    }\n  }\n"): (typeof documents)["\n  subscription ClientImportProgress($id: ID!) {\n    clientImportProgress(id: $id) {\n      ...ImportState\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MailingEdit on Mailing {\n    id\n    text\n    status\n    startAt\n    endAt\n    filter {\n      tags\n      operatorCodes\n    }\n    sendWindow {\n      from\n      to\n    }\n  }\n"): (typeof documents)["\n  fragment MailingEdit on Mailing {\n    id\n    text\n    status\n    startAt\n    endAt\n    filter {\n      tags\n      operatorCodes\n    }\n    sendWindow {\n      from\n      to\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MailingForEdit($id: ID!) {\n    mailing(id: $id) {\n      ...MailingEdit\n    }\n  }\n"): (typeof documents)["\n  query MailingForEdit($id: ID!) {\n    mailing(id: $id) {\n      ...MailingEdit\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateMailing($input: CreateMailingInput!) {\n    createMailing(input: $input) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CreateMailing($input: CreateMailingInput!) {\n    createMailing(input: $input) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMailing($id: ID!, $input: UpdateMailingInput!) {\n    updateMailing(id: $id, input: $input) {\n      ...MailingEdit\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateMailing($id: ID!, $input: UpdateMailingInput!) {\n    updateMailing(id: $id, input: $input) {\n      ...MailingEdit\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Mailing($id: ID!) {\n    mailing(id: $id) {\n      id\n      text\n      status\n      startAt\n      endAt\n      createdAt\n      filter {\n        tags\n        operatorCodes\n      }\n      sendWindow {\n        from\n        to\n      }\n      stats {\n        ...MailingLive\n      }\n    }\n  }\n"): (typeof documents)["\n  query Mailing($id: ID!) {\n    mailing(id: $id) {\n      id\n      text\n      status\n      startAt\n      endAt\n      createdAt\n      filter {\n        tags\n        operatorCodes\n      }\n      sendWindow {\n        from\n        to\n      }\n      stats {\n        ...MailingLive\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MailingMessages($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor, $status: MessageStatus) {\n    mailing(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, status: $status) {\n        totalCount\n        pageInfo {\n          ...Pages\n        }\n        edges {\n          node {\n            id\n            phone\n            status\n            attempts\n            lastError\n            sentAt\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query MailingMessages($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor, $status: MessageStatus) {\n    mailing(id: $id) {\n      id\n      messages(first: $first, after: $after, last: $last, before: $before, status: $status) {\n        totalCount\n        pageInfo {\n          ...Pages\n        }\n        edges {\n          node {\n            id\n            phone\n            status\n            attempts\n            lastError\n            sentAt\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription StatusFeed($id: ID!, $last: Int!) {\n    messageStatusBatches(mailingID: $id, last: $last) {\n      count\n      events {\n        messageID\n        status\n        attempts\n        at\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription StatusFeed($id: ID!, $last: Int!) {\n    messageStatusBatches(mailingID: $id, last: $last) {\n      count\n      events {\n        messageID\n        status\n        attempts\n        at\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseMailing($id: ID!) {\n    pauseMailing(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation PauseMailing($id: ID!) {\n    pauseMailing(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeMailing($id: ID!) {\n    resumeMailing(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ResumeMailing($id: ID!) {\n    resumeMailing(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelMailing($id: ID!) {\n    cancelMailing(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CancelMailing($id: ID!) {\n    cancelMailing(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteMailing($id: ID!) {\n    deleteMailing(id: $id)\n  }\n"): (typeof documents)["\n  mutation DeleteMailing($id: ID!) {\n    deleteMailing(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Mailings($first: Int!, $where: MailingWhereInput) {\n    mailings(first: $first, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n      }\n      edges {\n        node {\n          id\n          text\n          status\n          startAt\n          endAt\n          stats {\n            ...MailingCounts\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Mailings($first: Int!, $where: MailingWhereInput) {\n    mailings(first: $first, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {\n      totalCount\n      pageInfo {\n        hasNextPage\n      }\n      edges {\n        node {\n          id\n          text\n          status\n          startAt\n          endAt\n          stats {\n            ...MailingCounts\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MailingCounts on MailingStats {\n    mailingID\n    status\n    total\n    byStatus {\n      status\n      count\n    }\n  }\n"): (typeof documents)["\n  fragment MailingCounts on MailingStats {\n    mailingID\n    status\n    total\n    byStatus {\n      status\n      count\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MailingLive on MailingStats {\n    ...MailingCounts\n    rate\n    eta\n  }\n"): (typeof documents)["\n  fragment MailingLive on MailingStats {\n    ...MailingCounts\n    rate\n    eta\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MailingProgress($id: ID!) {\n    mailingProgress(mailingID: $id) {\n      ...MailingLive\n    }\n  }\n"): (typeof documents)["\n  subscription MailingProgress($id: ID!) {\n    mailingProgress(mailingID: $id) {\n      ...MailingLive\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OptOuts($first: Int, $after: Cursor, $where: OptOutWhere) {\n    optOuts(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          phone\n          reason\n          createdAt\n          createdBy\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query OptOuts($first: Int, $after: Cursor, $where: OptOutWhere) {\n    optOuts(first: $first, after: $after, where: $where) {\n      totalCount\n      pageInfo {\n        ...NextPage\n      }\n      edges {\n        node {\n          id\n          phone\n          reason\n          createdAt\n          createdBy\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OptOut($phone: String!, $reason: String) {\n    optOut(phone: $phone, reason: $reason) {\n      id\n      phone\n    }\n  }\n"): (typeof documents)["\n  mutation OptOut($phone: String!, $reason: String) {\n    optOut(phone: $phone, reason: $reason) {\n      id\n      phone\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OptIn($phone: String!) {\n    optIn(phone: $phone)\n  }\n"): (typeof documents)["\n  mutation OptIn($phone: String!) {\n    optIn(phone: $phone)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DailyReport($date: Date) {\n    dailyReport(date: $date) {\n      date\n      from\n      to\n      text\n      totals {\n        mailings\n        messages\n        byStatus {\n          status\n          count\n        }\n        perMailing {\n          ...MailingCounts\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DailyReport($date: Date) {\n    dailyReport(date: $date) {\n      date\n      from\n      to\n      text\n      totals {\n        mailings\n        messages\n        byStatus {\n          status\n          count\n        }\n        perMailing {\n          ...MailingCounts\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendDailyReport($date: Date) {\n    sendDailyReport(date: $date) {\n      date\n    }\n  }\n"): (typeof documents)["\n  mutation SendDailyReport($date: Date) {\n    sendDailyReport(date: $date) {\n      date\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WhoAmI {\n    me {\n      name\n      role\n    }\n  }\n"): (typeof documents)["\n  query WhoAmI {\n    me {\n      name\n      role\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;